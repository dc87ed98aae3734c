/**
 * A SIP call's caller hash is the hash of its number: the From header's display name, angle
 * brackets, host and tag never count, so a call from +15550100 matches the same number in a chat's
 * identity token or a callback request.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CallerHasher } from '../../../appliance/calls/callerHash.js';

describe('CallerHasher.hash', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evx-callerhash-'));
  const hasher = CallerHasher.fromDataDir(dir);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes a From header value like the bare number', () => {
    const number = hasher.hash('+15550100');
    for (const from of [
      '"Test Caller" <sip:+15550100@127.0.0.1:5060>;tag=123SIPpTag001',
      'Someone Else <sip:+15550100@trunk.example;user=phone>;tag=x',
      '<sip:+15550100@10.0.0.1>',
      '<sips:+15550100@10.0.0.1:5061;transport=tls>',
      'sip:+15550100@10.0.0.1',
      '<tel:+15550100>',
      'tel:+15550100;phone-context=example.com',
      ' +1 555 0100 ',
    ])
      expect(hasher.hash(from), from).toBe(number);
  });

  it('keeps different callers apart and is salted', () => {
    expect(hasher.hash('"A" <sip:+15550100@h>')).not.toBe(hasher.hash('"A" <sip:+15550101@h>'));
    expect(hasher.hash('<sip:alice@h>')).toBe(hasher.hash('alice'));
    expect(hasher.hash('+15550100')).toMatch(/^[0-9a-f]{32}$/);
    const other = mkdtempSync(join(tmpdir(), 'evx-callerhash-'));
    try {
      expect(CallerHasher.fromDataDir(other).hash('+15550100')).not.toBe(hasher.hash('+15550100'));
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
