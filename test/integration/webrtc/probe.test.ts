import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../../appliance/audio/wav.js';
import { probeCommand } from '../../../cli/commands/probe.js';
import { SKIP_REASON, startHarness, testSignal48k, workerBin, type Harness } from './harness.js';

function bufferIo() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}

describe.skipIf(workerBin === undefined)(`edgevox probe webrtc (${workerBin === undefined ? SKIP_REASON : 'real worker'})`, () => {
  let h: Harness;
  let wavPath: string;
  beforeAll(async () => {
    h = await startHarness();
    const dir = mkdtempSync(path.join(tmpdir(), 'evx-probe-'));
    wavPath = path.join(dir, 'signal.wav');
    // 16 kHz file: the probe resamples to 48 kHz
    const s48 = testSignal48k(1500);
    const s16 = Int16Array.from({ length: Math.floor(s48.length / 3) }, (_, i) => s48[i * 3]!);
    writeFileSync(wavPath, encodeWav(s16, 16000, 'pcm16'));
  });
  afterAll(async () => {
    await h.close();
  });

  it('exits 1 with a clear message when the appliance cannot be reached', async () => {
    const { io, err } = bufferIo();
    const code = await probeCommand.run(['webrtc', '--wav', wavPath, '--target', 'http://127.0.0.1:9', '--timeout-ms', '2000'], io);
    expect(code).toBe(1);
    expect(err.join('')).toMatch(/probe: FAILED/);
  });

  it('rejects a bad command line', async () => {
    const { io } = bufferIo();
    await expect(probeCommand.run(['webrtc'], io)).rejects.toMatchObject({ code: 'EVX_ERR_CLI_USAGE' });
  });

  // The harness has no call layer (no ASR): a media-only probe. The transcript path is covered by appliance.test.ts.
  it('places a call: caller audio reaches the agent; exit 0', async () => {
    const { io, out, err } = bufferIo();
    const code = await probeCommand.run(
      ['webrtc', '--wav', wavPath, '--target', h.httpUrl, '--agent-token', 'agent-token-1', '--media-only', '--json'],
      io,
    );
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(out.join('')) as { ok: boolean; packetsSent: number; agent: { rmsMax: number } };
    expect(report.ok).toBe(true);
    expect(report.packetsSent).toBeGreaterThan(50);
    expect(report.agent.rmsMax).toBeGreaterThan(1000);
    expect(h.plane.activeCalls).toBe(0);
  });
});
