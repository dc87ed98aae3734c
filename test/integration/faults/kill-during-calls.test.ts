/**
 * SIGKILL with 20 active calls, then restart: the database is intact, every call the killed run left
 * open is closed with a reason, and what was stored before the kill is still there.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASE_FILE } from '../../../appliance/store/database.js';
import { testRtpRange } from '../../helpers/appliance.js';
import { SHARED_MODELS_DIR, SHARED_DIR, scratchDir } from '../../helpers/paths.js';
import { serveProcess, type Served } from '../../helpers/process.js';
import { freePort, haveTool, prepareClip, SCENARIOS } from '../../e2e/sip/harness.js';

const CALLS = 20;

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

describe.runIf(haveTool('sipp') && haveTool('sox'))('SIGKILL during calls', () => {
  const served: Served[] = [];
  afterAll(() => served.forEach((s) => s.child.kill('SIGKILL')));

  it('restarts with an intact database and closes the interrupted calls', async () => {
    const dataDir = scratchDir('kill');
    const work = prepareClip(join(SHARED_DIR, 'datasets', 'speech-en', '1.wav'));
    const sipPort = await freePort();
    const { rtpPortMin, rtpPortMax } = testRtpRange(400, [sipPort]);
    const args = [
      '--data-dir',
      dataDir,
      '--http-port',
      '0',
      '--sip-port',
      String(sipPort),
      '--models-dir',
      SHARED_MODELS_DIR,
      '--log-level',
      'warn',
    ];
    const env = {
      EDGEVOX_SIP_RTP_PORT_MIN: String(rtpPortMin),
      EDGEVOX_SIP_RTP_PORT_MAX: String(rtpPortMax),
      EDGEVOX_SIP_RATE_LIMIT_PER_SEC: '0',
      // Any free port: an appliance already running on this machine holds the default 8443.
      EDGEVOX_CONSOLE_HTTPS_PORT: '0',
    };
    const first = await serveProcess(args, env);
    served.push(first);

    const sipp = spawn(
      'sipp',
      [
        '-nostdin',
        `127.0.0.1:${sipPort}`,
        '-sf',
        join(SCENARIOS, 'uac-pcmu-speech.xml'),
        '-m',
        String(CALLS),
        '-l',
        String(CALLS),
        '-r',
        '10',
        '-d',
        '60000',
        '-i',
        '127.0.0.1',
        '-p',
        String(await freePort()),
        '-mi',
        '127.0.0.1',
        '-mp',
        String(await freePort(true)),
      ],
      { cwd: work.dir, stdio: 'ignore' },
    );
    try {
      let active = 0;
      for (let i = 0; i < 200 && active < CALLS; i++) {
        await new Promise((r) => setTimeout(r, 100));
        active = await metric(first.url, 'edgevox_calls_active');
      }
      expect(active).toBe(CALLS);
      await new Promise((r) => setTimeout(r, 4000)); // let utterances be recognised and stored
      first.child.kill('SIGKILL');
      expect(await first.exited).toBeNull();
    } finally {
      sipp.kill('SIGKILL');
      work.cleanup();
    }

    const db = new Database(join(dataDir, DATABASE_FILE));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const openBefore = (db.prepare(`SELECT COUNT(*) AS n FROM calls WHERE state != 'ended'`).get() as { n: number }).n;
    const utterancesBefore = (db.prepare('SELECT COUNT(*) AS n FROM utterances').get() as { n: number }).n;
    const early = db.prepare(`SELECT end_reason AS reason, COUNT(*) AS n FROM calls GROUP BY end_reason`).all();
    db.close();
    expect(openBefore, JSON.stringify(early)).toBe(CALLS);

    const second = await serveProcess(args, env);
    served.push(second);
    expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    const after = new Database(join(dataDir, DATABASE_FILE));
    expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
    const reasons = after.prepare(`SELECT end_reason AS reason, COUNT(*) AS n FROM calls GROUP BY end_reason`).all();
    expect(reasons).toEqual([{ reason: 'appliance-crashed', n: CALLS }]);
    expect((after.prepare('SELECT COUNT(*) AS n FROM utterances').get() as { n: number }).n).toBe(utterancesBefore);
    expect((after.prepare(`SELECT COUNT(*) AS n FROM call_legs WHERE ended_at IS NULL`).get() as { n: number }).n).toBe(0);
    after.close();
  });
});
