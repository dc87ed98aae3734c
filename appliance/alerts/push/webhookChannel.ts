/** The alert webhook's sender: one signed JSON POST per delivery (webhooks/signedPost.ts). */
import { VERSION } from '../../buildInfo.js';
import { checkWebhookSecret, parseWebhookUrl, postSigned } from '../../webhooks/signedPost.js';
import type { SendOutcome } from './orderedQueue.js';
import type { AlertPushPayload } from './payload.js';

export const ALERT_WEBHOOK_USER_AGENT = `EdgeVox/${VERSION} (alert-webhook)`;

export interface AlertWebhookSettings {
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs: number;
  readonly backoffMaxMs: number;
}

/** A sender for the outbox; throws EVX_ERR_CONFIG_INVALID for a bad URL or short secret. */
export function alertWebhookSender(
  s: AlertWebhookSettings,
): (p: AlertPushPayload, attempt: number, abort: AbortSignal) => Promise<SendOutcome> {
  const url = parseWebhookUrl(s.url, 'routing.alerts.webhook.url');
  checkWebhookSecret(s.secret, 'routing.alerts.webhook.secret', 'routing.alerts.webhook.url');
  return async (p, _attempt, abort) => {
    const r = await postSigned({
      url,
      secret: s.secret,
      body: JSON.stringify(p),
      deliveryId: p.id,
      event: p.event,
      userAgent: ALERT_WEBHOOK_USER_AGENT,
      timeoutMs: s.timeoutMs,
      abort,
      retryAfterMaxMs: s.backoffMaxMs,
    });
    return r.kind === 'rejected' ? { kind: 'rejected', reason: `status ${r.status}` } : r;
  };
}
