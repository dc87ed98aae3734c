/**
 * Privacy end to end: sipp calls the appliance and speaks (espeak-ng, 8 kHz μ-law) a planted name,
 * card number, phone number and e-mail address. Afterwards none of the planted values the recogniser
 * actually heard appear in the store (every table), the info-level logs, /metrics, the WebSocket
 * event stream, the sync audit or anything the collector (a real `edgevox collector` over HTTPS)
 * received — and what must be there is: placeholders, redaction counts and the call's aggregates.
 *
 * The recogniser does not hear espeak digits perfectly, so the test first asks what it hears (the
 * same clip through `edgevox transcribe`) and checks those recognised values, plus the literal
 * planted strings.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Appliance } from '../../../appliance/app.js';
import { startTestAppliance, type CapturedLog } from '../../helpers/appliance.js';
import { REPO_ROOT, scratchDir } from '../../helpers/paths.js';
import { CLI, runCli } from '../../helpers/process.js';
import { freePort, haveTool, prepareClip, runSipp, SCENARIOS, type Workdir } from '../sip/harness.js';

const SPEECH =
  'Hello, my name is John Smith. My card number is four one one one, one one one one, one one one one, one one one one. ' +
  'Please call me on zero seven seven zero zero, nine zero zero, one two three. My email is mary dot jones at example dot com. Thank you.';
const LITERALS = ['4111', '07700', '900123', 'mary.jones', 'example.com', '+15550100', '15550100'];
const KEY = 'privacy-e2e-enrollment-key-0123456789';
const SITE = 'privacy-e2e';
const DIGIT = new Set(['ZERO', 'OH', 'ONE', 'TWO', 'THREE', 'FOUR', 'FIVE', 'SIX', 'SEVEN', 'EIGHT', 'NINE', 'WON', 'TO', 'TOO', 'FOR']);

let app: Appliance;
let log: CapturedLog;
let work: Workdir;
let collector: ChildProcess;
let collectorUrl: string;
let heard: string;
let collectorCa: Buffer;

/** GET JSON from the HTTPS collector, trusting its self-signed certificate. */
function collectorGet<T>(path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    https
      .get(`${collectorUrl}${path}`, { ca: collectorCa }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(JSON.parse(body) as T));
      })
      .on('error', reject);
  });
}
const streamed: string[] = [];
let ws: WebSocket;

beforeAll(async () => {
  for (const tool of ['sipp', 'sox', 'espeak-ng', 'openssl']) if (!haveTool(tool)) throw new Error(`${tool} is required: run make setup`);
  const dir = scratchDir('privacy');
  const wav = join(dir, 'speech.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', wav, SPEECH]);
  work = prepareClip(wav);
  // What the recogniser hears in this clip (the same 8 kHz μ-law audio, offline).
  const narrow = join(dir, 'speech-8k.wav');
  execFileSync('sox', [wav, '-r', '8000', '-c', '1', '-e', 'mu-law', narrow]);
  const t = await runCli(['transcribe', narrow]);
  expect(t.code, t.stderr).toBe(0);
  heard = t.stdout.trim();

  // The collector over HTTPS with a self-signed certificate the appliance trusts through sync.caFile.
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const keys = join(dir, 'sites.json');
  writeFileSync(keys, JSON.stringify({ sites: { [SITE]: { enrollmentKey: KEY } } }));
  collector = spawn(process.execPath, [CLI, 'collector', '--port', '0', '--data-dir', join(dir, 'collector'), '--key-file', keys, '--tls-cert', cert, '--tls-key', key], { cwd: REPO_ROOT });
  collectorUrl = await new Promise<string>((resolve, reject) => {
    let err = '';
    collector.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /collector listening on (\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    collector.on('exit', (code) => reject(new Error(`collector exited ${code}: ${err}`)));
  });
  collectorCa = readFileSync(cert);
  ({ app, log } = await startTestAppliance({
    site: { id: SITE },
    console: { enabled: false },
    upstream: { endpoint: `${collectorUrl}/api/v1/aggregates`, enrollmentKey: KEY },
    sync: { enabled: true, windowMs: 60_000, settleMs: 0, intervalMs: 250, kAnonymity: 1, caFile: cert, backoffBaseMs: 100, backoffMaxMs: 1000 },
  }));
  ws = new WebSocket(`${app.httpUrl.replace('http', 'ws')}/api/v1/events`);
  ws.on('message', (d: Buffer) => streamed.push(d.toString()));
  await new Promise((r) => ws.once('open', r));
}, 120_000);

afterAll(async () => {
  ws?.close();
  await app?.close();
  collector?.kill('SIGTERM');
  work?.cleanup();
});

/**
 * The planted values as the recogniser produced them: runs of 4+ digit words (card and phone digits
 * as heard), the words after "MY NAME IS", and e-mail-shaped sequences (X [DOT Y] AT Z DOT W).
 */
function recognisedValues(text: string): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const values: string[] = [];
  for (let i = 0; i < words.length; ) {
    let j = i;
    while (j < words.length && DIGIT.has(words[j]!)) j++;
    if (j - i >= 4) values.push(words.slice(i, j).join(' '));
    i = Math.max(j, i + 1);
  }
  for (let i = 0; i + 2 < words.length; i++) {
    if (words[i] === 'NAME' && (words[i + 1] === 'IS' || words[i + 1] === "NAME'S")) {
      for (const w of words.slice(i + 2, i + 4)) if (/^[A-Z']{3,}$/.test(w) && !['AND', 'THE', 'MY', 'CALLING'].includes(w)) values.push(w);
    }
    if (words[i] === 'AT' && words[i + 2] === 'DOT') values.push(words[i - 1]!, words[i + 1]!);
  }
  return [...new Set(values)].filter((v) => v !== undefined);
}

function dumpStore(): string {
  const tables = app.store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[];
  return tables.map((t) => `${t.name}: ${JSON.stringify(app.store.db.prepare(`SELECT * FROM "${t.name}"`).all())}`).join('\n');
}

describe('planted personal data never leaves redaction', () => {
  it('calls, then checks the store, logs, metrics, events, sync audit and collector', async () => {
    const values = recognisedValues(heard);
    console.log(`recogniser heard: ${heard}\nchecked values: ${JSON.stringify(values)}`);
    expect(values.length, `nothing planted was recognised: ${heard}`).toBeGreaterThan(0);

    const sipPort = app.sip!.port;
    const r = await runSipp(
      [`127.0.0.1:${sipPort}`, '-sf', join(SCENARIOS, 'uac-pcmu-speech.xml'), '-m', '1', '-d', String(Math.ceil(work.ulaw.length / 8) + 2500),
        '-i', '127.0.0.1', '-p', String(await freePort()), '-mi', '127.0.0.1', '-mp', String(await freePort(true)), '-timeout', '60s', '-timeout_error'],
      work.dir,
      70_000,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (let i = 0; i < 100 && app.calls.activeCount > 0; i++) await new Promise((res) => setTimeout(res, 50));
    const callId = (app.store.calls.list({ limit: 1 })[0]!).id;
    const callStart = app.store.calls.get(callId)!.startedAt;
    const callWindow = Math.floor(callStart / 60_000) * 60_000;

    // Wait for the call's minute window to close and reach the collector.
    let payloads: { idempotencyKey: string; body: { calls: { total: number | null } } }[] = [];
    for (let i = 0; i < 400; i++) {
      payloads = (await collectorGet<{ payloads: typeof payloads }>(`/api/v1/aggregates?site=${SITE}`)).payloads;
      if (payloads.some((p) => p.idempotencyKey === `${SITE}:${callWindow}`)) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    const mine = payloads.find((p) => p.idempotencyKey === `${SITE}:${callWindow}`);
    expect(mine, 'the call window reached the collector').toBeDefined();
    expect(mine!.body.calls.total).toBe(1);

    const utterances = app.store.utterances.listByCall(callId);
    const storedText = utterances.map((u) => u.text).join(' | ');
    console.log(`stored: ${storedText}`);
    const metricsRes = await fetch(`${app.httpUrl}/metrics`);
    if (metricsRes.status !== 200) {
      // Surface why the exposition failed (a collector of some metric threw).
      await app.metrics.exposition().catch((err: unknown) => console.log(`metrics exposition failed: ${err instanceof Error ? err.stack : String(err)}`));
    }
    expect(metricsRes.status, '/metrics answers after the call').toBe(200);
    const sinks: Record<string, string> = {
      store: dumpStore(),
      logs: JSON.stringify(log.lines.filter((l) => Number(l['level']) >= 30)),
      metrics: await metricsRes.text(),
      events: streamed.join('\n'),
      syncAudit: await (await fetch(`${app.httpUrl}/api/v1/sync/audit?limit=500`)).text(),
      collector: JSON.stringify(payloads),
      callsApi: await (await fetch(`${app.httpUrl}/api/v1/calls/${callId}`)).text(),
    };
    for (const [sink, text] of Object.entries(sinks)) {
      const upper = text.toUpperCase();
      for (const v of values) expect(new RegExp(`\\b${v}\\b`).test(upper), `${sink} contains "${v}"`).toBe(false);
      for (const lit of LITERALS) expect(text.toLowerCase().includes(lit.toLowerCase()), `${sink} contains "${lit}"`).toBe(false);
    }

    // What must be there: placeholders in the transcript and the events, redaction counts, the aggregates.
    expect(storedText).toMatch(/\[(CARD|DIGITS|PHONE|NAME|EMAIL)\]/);
    expect(sinks['events']).toMatch(/\[(CARD|DIGITS|PHONE|NAME|EMAIL)\]/);
    expect(sinks['metrics']).toMatch(/^edgevox_redactions_total\{category="(card|digits|phone|name)"\} [1-9]/m);
    const audit = JSON.parse(sinks['syncAudit']!) as { entries: { outcome: string; idempotencyKey: string }[] };
    expect(audit.entries.some((e) => e.outcome === 'accepted' && e.idempotencyKey === `${SITE}:${callWindow}`)).toBe(true);
    expect(readFileSync(join(app.config.dataDir, 'secrets', 'store-key')).length).toBeGreaterThan(0);
  }, 180_000);
});
