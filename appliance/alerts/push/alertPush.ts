/**
 * Alert push: each alert raised or changed (acknowledged, assigned, resolved) at or above a channel's
 * minimum severity is sent to the configured channels — a signed JSON webhook, and e-mail through
 * SMTP — each through its own ordered, bounded outbox (orderedQueue.ts), so the bus listener only
 * builds the payload (payload.ts: nothing personal) and queues it. E-mail goes out for new alerts only.
 */
import { randomUUID } from 'node:crypto';
import type { EventBus } from '../../events/appEvents.js';
import type { Logger } from '../../log/logger.js';
import type { AlertSeverity, AlertsRepo } from '../repo.js';
import { alertEmailSender, type AlertEmailSettings } from './emailChannel.js';
import { OrderedOutbox, type OutboxCounters } from './orderedQueue.js';
import { alertPushPayload, atLeast, type AlertPushPayload } from './payload.js';
import { alertWebhookSender, type AlertWebhookSettings } from './webhookChannel.js';

export type AlertChannel = 'webhook' | 'email';

interface Retrying {
  readonly maxAttempts: number;
  readonly maxPending: number;
  readonly minSeverity: AlertSeverity;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

export interface AlertPushOptions {
  readonly site: { readonly id: string; readonly name: string };
  readonly logger: Logger;
  readonly counts: () => ReturnType<AlertsRepo['counts']>;
  readonly webhook: (Omit<AlertWebhookSettings, 'backoffMaxMs'> & Retrying) | null;
  readonly email: (AlertEmailSettings & Retrying) | null;
  readonly random?: () => number;
}

interface Channel {
  readonly name: AlertChannel;
  readonly minSeverity: AlertSeverity;
  readonly raisedOnly: boolean;
  readonly outbox: OrderedOutbox<AlertPushPayload>;
  close(): void;
}

const LOG_EVERY_MS = 60_000;

export class AlertPush {
  private readonly channels: Channel[] = [];
  private unsubscribe: (() => void) | null = null;
  private readonly lastLog = new Map<string, number>();

  constructor(private readonly o: AlertPushOptions) {
    const outbox = (name: AlertChannel, r: Retrying, send: ConstructorParameters<typeof OrderedOutbox<AlertPushPayload>>[0]['send']) =>
      new OrderedOutbox<AlertPushPayload>({
        send,
        maxAttempts: r.maxAttempts,
        maxPending: r.maxPending,
        backoffBaseMs: r.backoffBaseMs ?? 500,
        backoffMaxMs: r.backoffMaxMs ?? 30_000,
        random: o.random,
        onGiveUp: (outcome, reason) => this.warn(name, outcome, reason),
      });
    if (o.webhook !== null) {
      const send = alertWebhookSender({ ...o.webhook, backoffMaxMs: o.webhook.backoffMaxMs ?? 30_000 });
      const box = outbox('webhook', o.webhook, send);
      this.channels.push({ name: 'webhook', minSeverity: o.webhook.minSeverity, raisedOnly: false, outbox: box, close: () => box.close() });
    }
    if (o.email !== null) {
      const sender = alertEmailSender(o.email);
      const box = outbox('email', o.email, (p, attempt, abort) => sender.send(p, attempt, abort));
      this.channels.push({
        name: 'email',
        minSeverity: o.email.minSeverity,
        raisedOnly: true,
        outbox: box,
        close: () => {
          box.close();
          sender.close();
        },
      });
    }
  }

  get enabled(): boolean {
    return this.channels.length > 0;
  }

  /** Follow alerts on the bus; returns the detach function. */
  attach(bus: EventBus): () => void {
    this.unsubscribe?.();
    const off = bus.subscribe((e) => {
      if (e.type !== 'alert' && e.type !== 'alert.updated') return;
      const wanted = this.channels.filter((c) => atLeast(e.severity, c.minSeverity) && (!c.raisedOnly || e.type === 'alert'));
      if (wanted.length === 0) return;
      const counts = this.o.counts();
      for (const c of wanted) {
        const p = alertPushPayload(e, { id: randomUUID(), siteId: this.o.site.id, siteName: this.o.site.name, counts });
        if (p !== null) c.outbox.push(p);
      }
    });
    this.unsubscribe = off;
    return off;
  }

  /** Per channel: delivered, rejected, failed, dropped, retries, pending. */
  counters(): Partial<Record<AlertChannel, OutboxCounters>> {
    return Object.fromEntries(this.channels.map((c) => [c.name, c.outbox.counters()]));
  }

  /** Resolves once every channel's outbox is empty (tests, drain). */
  async idle(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.outbox.idle()));
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const c of this.channels) c.close();
  }

  private warn(channel: AlertChannel, outcome: string, reason: string): void {
    const key = `${channel}:${outcome}`;
    const now = Date.now();
    if (now - (this.lastLog.get(key) ?? -Infinity) < LOG_EVERY_MS) return;
    this.lastLog.set(key, now);
    this.o.logger.warn({ channel, outcome, reason }, 'alert push not delivered');
  }
}
