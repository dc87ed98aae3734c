/**
 * Simulated sites for the collector's tests and `make bench-collector`: each site has its own
 * signing key (HMAC from an enrollment key, or Ed25519, as real sites do) and produces hourly
 * aggregates payloads that pass the aggregates schema, with figures of a branch contact centre
 * (tens to a few hundred calls an hour, a daily curve, small cells suppressed as null).
 */
import { generateKeyPairSync, sign as edSign } from 'node:crypto';
import { assertPayload } from '../../appliance/aggregates/builder.js';
import { HANDLE_TIME_BOUNDS_MS, SCHEMA_ID, WAIT_TIME_BOUNDS_MS, type AggregatePayload } from '../../appliance/aggregates/schema.js';
import { hmacSigner, type SiteKey, type Signer } from '../../appliance/sync/signing.js';

export const HOUR_MS = 3_600_000;
const K = 5;
const INTENTS = ['billing', 'card_lost', 'balance', 'transfer', 'address_change', 'complaint', 'opening_hours', 'loan'];
const EMOTIONS = ['neutral', 'happy', 'angry', 'sad'];

export interface SimulatedSite {
  id: string;
  key: SiteKey;
  signer: Signer;
}

/** `n` sites named `site-0001`...; every other one signs with Ed25519, the rest with HMAC. */
export function simulatedSites(n: number, prefix = 'site'): SimulatedSite[] {
  return Array.from({ length: n }, (_, i) => {
    const id = `${prefix}-${String(i + 1).padStart(4, '0')}`;
    if (i % 2 === 1) {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const signer: Signer = { scheme: 'ed25519', sign: (body) => `ed25519=${edSign(null, body, privateKey).toString('base64')}` };
      return { id, key: { ed25519PublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() }, signer };
    }
    const enrollmentKey = `enrollment-key-${id}-${i.toString(36).padStart(8, '0')}`;
    return { id, key: { enrollmentKey }, signer: hmacSigner(enrollmentKey) };
  });
}

/** The collector's key file content for these sites. */
export function keyFileJson(sites: readonly SimulatedSite[]): string {
  return JSON.stringify({ sites: Object.fromEntries(sites.map((s) => [s.id, s.key])) });
}

/** A deterministic generator (mulberry32) so a run can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The hourly payload of `site` for the window starting at `windowStartMs` (an hour boundary). */
export function simulatedPayload(site: string, windowStartMs: number, random: () => number): AggregatePayload {
  const hour = new Date(windowStartMs).getUTCHours();
  // a day curve: quiet at night, peaks late morning and mid afternoon
  const curve = Math.max(0.05, Math.sin(((hour - 6) / 14) * Math.PI));
  const size = 40 + Math.floor(random() * 200);
  const total = Math.round(size * curve);
  let suppressed = 0;
  const cell = (n: number): number | null => {
    if (n > 0 && n < K) {
      suppressed++;
      return null;
    }
    return n;
  };
  const split = (n: number, parts: number): number[] => {
    const weights = Array.from({ length: parts }, () => random() + 0.05);
    const sum = weights.reduce((a, b) => a + b, 0);
    const out = weights.map((w) => Math.floor((n * w) / sum));
    out[0]! += n - out.reduce((a, b) => a + b, 0);
    return out;
  };
  const answered = Math.round(total * (0.85 + random() * 0.14));
  const [sip, siprec, webrtc] = split(total, 3) as [number, number, number];
  const scored = Math.round(answered * 0.6);
  const passed = Math.round(scored * (0.7 + random() * 0.25));
  const qaScored = cell(scored);
  const qaPassed = cell(passed);
  const intents = split(answered, INTENTS.length);
  const emotions = split(answered, EMOTIONS.length);
  const payload: AggregatePayload = {
    schema: SCHEMA_ID,
    site,
    window: { startMs: windowStartMs, durationMs: HOUR_MS, start: new Date(windowStartMs).toISOString() },
    generatedAtMs: windowStartMs + HOUR_MS + 60_000,
    privacy: { k: K, noise: null, suppressedCells: 0 },
    calls: { total: cell(total), answered: cell(answered), bySource: { sip: cell(sip), siprec: cell(siprec), webrtc: cell(webrtc) } },
    handleTime: { boundsMs: HANDLE_TIME_BOUNDS_MS, counts: split(answered, HANDLE_TIME_BOUNDS_MS.length + 1).map(cell) },
    waitTime: { boundsMs: WAIT_TIME_BOUNDS_MS, counts: split(total, WAIT_TIME_BOUNDS_MS.length + 1).map(cell) },
    topIntents: INTENTS.map((intent, i) => ({ intent, calls: cell(intents[i]!) })).filter((x) => x.calls !== 0),
    emotionMix: EMOTIONS.map((emotion, i) => ({ emotion, calls: cell(emotions[i]!) })).filter((x) => x.calls !== 0),
    qa: {
      scored: qaScored,
      passed: qaPassed,
      passRate: qaScored !== null && qaPassed !== null && qaScored > 0 ? qaPassed / qaScored : null,
    },
    alerts: random() < 0.2 ? [{ kind: 'long_wait', count: cell(1 + Math.floor(random() * 10)) }] : [],
  };
  payload.privacy.suppressedCells = suppressed;
  assertPayload(payload);
  return payload;
}
