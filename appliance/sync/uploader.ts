/**
 * One HTTP(S) POST of a signed payload (node:http/https: a custom CA for private PKI, a hard timeout).
 * The classification of the answer is what makes retries safe: the collector answers the same
 * idempotency key with "duplicate", so a retry after a lost answer never double-counts.
 */
import http from 'node:http';
import https from 'node:https';
import { evxError } from '../errors.js';
import { SIGNATURE_HEADER } from './signing.js';
import { secureUniform } from '../randomness.js';

export interface PostResult {
  status: number;
  body: string;
}

export interface PostOptions {
  url: string;
  body: Buffer;
  idempotencyKey: string;
  site: string;
  signature: string;
  timeoutMs: number;
  ca?: Buffer | undefined;
}

export function postSigned(o: PostOptions): Promise<PostResult> {
  const url = new URL(o.url);
  const client = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : null;
  if (client === null) return Promise.reject(evxError('EVX_ERR_SYNC_UPLOAD', `unsupported endpoint protocol ${url.protocol}`));
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': o.body.length,
          'idempotency-key': o.idempotencyKey,
          'x-edgevox-site': o.site,
          [SIGNATURE_HEADER]: o.signature,
        },
        timeout: o.timeoutMs,
        ...(o.ca !== undefined ? { ca: o.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= 64 * 1024) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => reject(evxError('EVX_ERR_SYNC_UPLOAD', `response failed: ${err.message}`, { cause: err })));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${o.timeoutMs} ms`)));
    req.on('error', (err) =>
      reject(
        evxError('EVX_ERR_SYNC_UPLOAD', `upload failed: ${err.message}`, {
          cause: err,
          details: { reason: (err as NodeJS.ErrnoException).code ?? 'error' },
        }),
      ),
    );
    req.end(o.body);
  });
}

/** Exponential backoff with jitter: base·2^attempt, capped, scaled by a random factor in [0.5, 1). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = secureUniform): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp * (0.5 + random() * 0.5));
}
