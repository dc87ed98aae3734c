/**
 * The alert e-mail's sender: a plain-text message through SMTP (nodemailer). TLS: `secure` for
 * implicit TLS (port 465), otherwise STARTTLS, required when `requireTls`; certificates are checked
 * unless `rejectUnauthorized` is false (a lab relay with a self-signed certificate). SMTP 5xx answers
 * are final; connection errors, timeouts and 4xx are retried by the outbox.
 */
import nodemailer from 'nodemailer';
import { evxError } from '../../errors.js';
import type { SendOutcome } from './orderedQueue.js';
import { alertEmail, type AlertPushPayload } from './payload.js';

export interface AlertEmailSettings {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly requireTls: boolean;
  readonly rejectUnauthorized: boolean;
  readonly user: string;
  readonly password: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly timeoutMs: number;
}

export interface AlertEmailSender {
  send(p: AlertPushPayload, attempt: number, abort: AbortSignal): Promise<SendOutcome>;
  close(): void;
}

export function alertEmailSender(s: AlertEmailSettings): AlertEmailSender {
  for (const [key, missing] of [
    ['routing.alerts.email.from', s.from === ''],
    ['routing.alerts.email.to', s.to.length === 0],
  ] as const)
    if (missing)
      throw evxError('EVX_ERR_CONFIG_INVALID', `invalid configuration: key '${key}' must be set when routing.alerts.email.host is set`, {
        details: { key, problem: 'required with routing.alerts.email.host' },
      });
  const transport = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    requireTLS: s.requireTls,
    tls: { rejectUnauthorized: s.rejectUnauthorized, minVersion: 'TLSv1.2' },
    ...(s.user !== '' ? { auth: { user: s.user, pass: s.password } } : {}),
    connectionTimeout: s.timeoutMs,
    greetingTimeout: s.timeoutMs,
    socketTimeout: s.timeoutMs,
  });
  return {
    async send(p, _attempt, abort) {
      if (abort.aborted) return { kind: 'retry', reason: 'closed' };
      const { subject, text } = alertEmail(p);
      try {
        await transport.sendMail({ from: s.from, to: [...s.to], subject, text, headers: { 'X-EdgeVox-Delivery': p.id } });
        return { kind: 'delivered' };
      } catch (err) {
        const e = err as { responseCode?: unknown; code?: unknown };
        const status = typeof e.responseCode === 'number' ? e.responseCode : null;
        if (status !== null && status >= 500) return { kind: 'rejected', reason: `smtp ${status}` };
        return { kind: 'retry', reason: status !== null ? `smtp ${status}` : typeof e.code === 'string' ? e.code : 'smtp error' };
      }
    },
    close: () => transport.close(),
  };
}
