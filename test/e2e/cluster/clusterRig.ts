/**
 * What the cluster e2e tests share (kamailio-failover.test.ts, callback-takeover.test.ts): the DIDs
 * of the two partitions as provisioning/kamailio/partitions.cfg has them, a box as `edgevox serve`
 * in its own process (so that it can be SIGKILLed), Prometheus sums, and the wait for the front to
 * mark a box down.
 */
import { createServer } from 'node:net';
import type { KamailioFront } from '../../../tools/cluster/kamailioFront.js';
import { testRtpRange } from '../../helpers/appliance.js';
import { SHARED_MODELS_DIR } from '../../helpers/paths.js';
import { serveProcess, type Served } from '../../helpers/process.js';

/** DIDs of partition 1 (home box A) and partition 2 (home box B). */
export const DID_A = '+15550101000';
export const DID_B = '+15550201000';
/** The front's OPTIONS probe interval in these tests. */
export const PROBE_S = 2;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sum of a Prometheus metric's samples (those whose labels contain `labels`). */
export async function metricSum(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))) {
    if (labels === '' || (m[1] ?? '').includes(labels)) sum += Number(m[2]);
  }
  return sum;
}

export interface Box {
  readonly name: string;
  readonly sipPort: number;
  readonly dataDir: string;
  readonly served: Served;
}

/** `edgevox serve` as box `name` on `sipPort` with its own data; `children` collects it for the test's cleanup. */
export async function serveBox(
  children: Served[],
  box: { name: string; sipPort: number; dataDir: string; httpPort?: number; args?: readonly string[]; env?: NodeJS.ProcessEnv },
): Promise<Box> {
  const { rtpPortMin, rtpPortMax } = testRtpRange(300, [box.sipPort]);
  const served = await serveProcess(
    [
      '--data-dir',
      box.dataDir,
      '--http-port',
      String(box.httpPort ?? 0),
      '--sip-port',
      String(box.sipPort),
      '--models-dir',
      SHARED_MODELS_DIR,
      '--log-level',
      'warn',
      ...(box.args ?? []),
    ],
    {
      EDGEVOX_SIP_RTP_PORT_MIN: String(rtpPortMin),
      EDGEVOX_SIP_RTP_PORT_MAX: String(rtpPortMax),
      EDGEVOX_SIP_RATE_LIMIT_PER_SEC: '0',
      EDGEVOX_CONSOLE_HTTPS_PORT: '0',
      EDGEVOX_SHUTDOWN_GRACE_MS: '60000',
      ...box.env,
    },
  );
  children.push(served);
  return { name: box.name, sipPort: box.sipPort, dataDir: box.dataDir, served };
}

/** A free TCP port on loopback (an API the partner box must know before it starts). */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether the front has `name` inactive in dispatcher set `set`. */
export async function markedDown(front: KamailioFront, name: string, set: number): Promise<boolean> {
  return (await front.dispatcher()).some((t) => t.name === name && t.set === set && t.flags.startsWith('I'));
}
