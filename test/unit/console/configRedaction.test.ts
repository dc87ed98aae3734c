/**
 * Secrets in the configuration never reach a reader below technician: GET /api/v1/config and the
 * stored versions (redactConfig, for viewers, supervisors and the support bundle) and the
 * key-by-key diff (maskChange, for every role) mask every secret key the schema has.
 */
import { describe, expect, it } from 'vitest';
import { diffConfigs, maskChange, redactConfig, SECRET_KEYS } from '../../../appliance/console/configService.js';
import { validateConfig, withDefaults } from '../../../appliance/config/load.js';

const defaultConfig = () => withDefaults({});

/** One distinct, recognisable value per secret key. */
const SECRETS: Record<string, string> = {
  'cluster.peerToken': 'planted-peer-token-0123456789abcdef',
  'chat.identitySecret': 'planted-chat-identity-secret-0123456789abcdef',
  'email.relay.password': 'planted-email-relay-password',
  'routing.webhook.secret': 'planted-routing-webhook-secret',
  'routing.alerts.webhook.secret': 'planted-alert-webhook-secret',
  'routing.alerts.email.password': 'planted-alert-smtp-password',
  'upstream.enrollmentKey': 'planted-upstream-enrollment-key',
};

function withSecrets(): Record<string, unknown> {
  const c = structuredClone(defaultConfig()) as unknown as Record<string, unknown>;
  for (const [dotted, value] of Object.entries(SECRETS)) {
    const path = dotted.split('.');
    let node = c;
    for (const p of path.slice(0, -1)) node = node[p] as Record<string, unknown>;
    node[path[path.length - 1]!] = value;
  }
  return c;
}

describe('configuration secrets', () => {
  it('are all named secret keys', () => {
    for (const key of Object.keys(SECRETS)) expect(SECRET_KEYS, key).toContain(key);
  });

  it('are masked in the configuration shown below the technician role', () => {
    const shown = JSON.stringify(redactConfig(withSecrets() as never));
    for (const [key, value] of Object.entries(SECRETS)) expect(shown.includes(value), key).toBe(false);
  });

  it('are masked in the diff between two versions', () => {
    const changes = diffConfigs(defaultConfig(), withSecrets()).map(maskChange);
    const shown = JSON.stringify(changes);
    for (const [key, value] of Object.entries(SECRETS)) {
      expect(
        changes.some((c) => c.key === key),
        key,
      ).toBe(true);
      expect(shown.includes(value), key).toBe(false);
    }
  });

  it('are masked in a configuration the loader accepted', () => {
    const c = validateConfig({ cluster: { peerToken: SECRETS['cluster.peerToken'] } });
    expect(JSON.stringify(redactConfig(c))).not.toContain(SECRETS['cluster.peerToken']);
  });
});
