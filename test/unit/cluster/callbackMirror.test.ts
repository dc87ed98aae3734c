/**
 * The callback mirror's sender (cluster/callbackHandover.ts): while the partner does not answer,
 * requesting a callback is not held up, the queue keeps at most `queueMax` messages (the oldest
 * dropped, counted) and is retried with backoff; once the partner answers, what is queued arrives,
 * in order, each once, with the number only inside the `hold` body.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { CallbackRepo } from '../../../appliance/acd/callbackRepo.js';
import { Callbacks } from '../../../appliance/acd/callbacks.js';
import { CallbackHandover } from '../../../appliance/cluster/callbackHandover.js';
import { HeldCallbacks } from '../../../appliance/cluster/heldCallbacks.js';
import { EventBus } from '../../../appliance/events/appEvents.js';
import { SecretBox } from '../../../appliance/privacy/secrets.js';
import { Store } from '../../../appliance/store/database.js';
import { captureLogger } from '../../helpers/appliance.js';
import { scratchDir } from '../../helpers/paths.js';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function freePortServer(onBody: (b: Record<string, unknown>) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      onBody(JSON.parse(text) as Record<string, unknown>);
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

describe('callback mirror sender', () => {
  it('keeps a bounded queue while the partner is away and delivers it in order once it answers', async () => {
    // a port with nothing on it yet: the partner is down
    const probe = await freePortServer(() => {});
    const port = probe.port;
    await new Promise((r) => probe.server.close(r));

    const store = Store.open(scratchDir('mirror'));
    closers.push(() => store.close());
    const bus = new EventBus();
    const callbacks = new Callbacks({
      repo: new CallbackRepo(store.db, store.write.bind(store)),
      box: SecretBox.fromKey(randomBytes(32)),
      bus,
      now: () => Date.now(),
    });
    const handover = new CallbackHandover(
      { callbacks, held: new HeldCallbacks(store.db, store.write.bind(store)), bus, logger: captureLogger().logger, now: () => Date.now() },
      { boxName: 'a', peerUrl: `http://127.0.0.1:${port}`, peerToken: 'x'.repeat(32), frontRpcUrl: '', adoptPollMs: 60_000, queueMax: 3 },
    );
    closers.push(() => handover.close());
    handover.startMirror();

    const ids = [1, 2, 3, 4, 5].map((n) => callbacks.request(`call-${n}`, 'cards', `tel:+4930123456${n}`).id);
    expect(callbacks.list({ state: 'pending' })).toHaveLength(5); // requesting never waited for the partner
    expect(handover.backlog).toBe(3);
    expect(handover.dropped).toBe(2);
    // the first send has failed and waits its backoff (the dropped head is not sent again)
    for (let i = 0; i < 400 && handover.failedSends === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(handover.failedSends).toBeGreaterThan(0);

    const got: Record<string, unknown>[] = [];
    const partner = await new Promise<Server>((resolve) => {
      const s = createServer((req, res) => {
        let text = '';
        req.on('data', (c: Buffer) => (text += c.toString()));
        req.on('end', () => {
          got.push(JSON.parse(text) as Record<string, unknown>);
          res.setHeader('content-type', 'application/json');
          res.end('{"ok":true}');
        });
      });
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
    closers.push(() => new Promise((r) => partner.close(r)));
    for (let i = 0; i < 400 && handover.backlog > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(handover.backlog).toBe(0);
    expect(got.map((m) => [m['op'], m['id']])).toEqual(ids.slice(2).map((id) => ['hold', id]));
    expect(got.map((m) => m['number'])).toEqual(['tel:+49301234563', 'tel:+49301234564', 'tel:+49301234565']);
    expect(handover.sent).toBe(3);
  });
});
