/** Reading a Prometheus text exposition, for benchmarks that measure the appliance from outside. */
import net from 'node:net';

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[4]) });
  }
  return out;
}

/** Quantile of a histogram from its cumulative buckets, interpolated linearly inside a bucket. */
export function histogramQuantile(h: { buckets: { le: number; count: number }[]; count: number }, q: number): number | null {
  if (h.count <= 0) return null;
  const rank = q * h.count;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (!Number.isFinite(b.le)) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket <= 0 ? b.le : prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/**
 * UDP/TCP port ranges the benches give the appliance's media (sip.rtpPort*, webrtc.rtcPort* in
 * harness.ts, sipLoad.ts, chatBench.ts, webrtcLoad.ts, and the WebRTC default 40000-40999). A SIP
 * port the kernel picks inside one of them makes the appliance refuse its configuration.
 */
export const BENCH_MEDIA_PORTS: readonly (readonly [number, number])[] = [
  [20000, 34999],
  [40000, 44999],
];

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A free loopback port outside the benches' media port ranges. */
export async function freeLoopbackPort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = await anyFreePort();
    if (!BENCH_MEDIA_PORTS.some(([lo, hi]) => port >= lo && port <= hi)) return port;
  }
  throw new Error('no free loopback port outside the media port ranges');
}
