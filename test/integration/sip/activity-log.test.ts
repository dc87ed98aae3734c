/**
 * The SIP layer's info-level log: call start and end with ids, codec, duration and end reason but
 * no number or name; refused traffic (scanners, floods) told once and then summed per window;
 * scanner user agents dropped unanswered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { logSipActivity } from '../../../appliance/app/sipLog.js';
import { createLogger } from '../../../appliance/log/logger.js';
import { SipServer } from '../../../appliance/telephony/sip-server.js';
import type { SipServerOptions } from '../../../appliance/telephony/types.js';
import { TestUac } from './uac.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const tick = (ms = 50): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function start(
  opts: SipServerOptions = {},
): Promise<{ server: SipServer; uac: TestUac; lines: Record<string, unknown>[]; stop: () => void }> {
  const base = 36000 + 2 * Math.floor(Math.random() * 2000);
  const server = new SipServer({ port: 0, rtpPortMin: base, rtpPortMax: base + 19, rateLimitPerSec: 5, rateLimitBurst: 5, ...opts });
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', includePii: false, destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
  const stop = logSipActivity(server, logger, 300);
  await server.listen();
  open.push(server, { close: stop });
  const uac = await new TestUac(server.port).open();
  open.push(uac);
  return { server, uac, lines, stop };
}

describe('SIP activity log', () => {
  it('logs call start and end with codec, duration and reason, and never the caller number or name', async () => {
    const { server, uac, lines } = await start();
    await uac.call(30000);
    await tick(100);
    const bye = uac.request('BYE');
    uac.sendRaw(bye);
    await uac.waitResponse('BYE', 200);
    await tick(50);
    const started = lines.find((l) => l['msg'] === 'call started');
    const ended = lines.find((l) => l['msg'] === 'call ended');
    expect(started).toMatchObject({ level: 30, transport: 'udp', codec: 'PCMU', mode: 'call' });
    expect(ended).toMatchObject({ level: 30, reason: 'remote_bye', codec: 'PCMU' });
    expect(ended!['callId']).toBe(started!['callId']);
    expect(typeof ended!['durationMs']).toBe('number');
    expect((ended!['packetsSent'] as number) > 0).toBe(true);
    const text = JSON.stringify(lines);
    expect(text).not.toContain('15550100');
    expect(text).not.toContain('Alice');
    expect(server.activeCalls).toBe(0);
  });

  it('drops scanner user agents unanswered and sums a flood into a few lines naming its source', async () => {
    const { server, uac, lines } = await start();
    uac.sendRaw(uac.request('OPTIONS', { extra: ['User-Agent: friendly-scanner'] }));
    await tick(100);
    expect(uac.received).toHaveLength(0);
    expect(server.counters.rejectedScanner).toBe(1);
    // a flood: 200 OPTIONS against a limit of 5 per second
    for (let i = 0; i < 200; i++) uac.sendRaw(uac.request('OPTIONS'));
    await tick(500);
    const refused = lines.filter((l) => l['msg'] === 'sip traffic refused');
    expect(refused.length).toBeLessThanOrEqual(4);
    const summary = refused.find((l) => l['reason'] === 'rate_limit' && typeof l['count'] === 'number');
    expect(summary).toMatchObject({ topSource: '127.0.0.1', sources: 1 });
    expect(summary!['count']).toBeGreaterThan(150);
    expect(refused.find((l) => l['reason'] === 'scanner')).toMatchObject({ source: '127.0.0.1', method: 'OPTIONS' });
  });

  it('answers scanners too when dropping them is off', async () => {
    const { uac } = await start({ dropUserAgents: [] });
    uac.sendRaw(uac.request('OPTIONS', { extra: ['User-Agent: friendly-scanner'] }));
    await uac.waitResponse('OPTIONS', 200);
  });
});
