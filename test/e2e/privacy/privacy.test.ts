/**
 * Privacy end to end: sipp calls a real appliance (auth on) and speaks, as 8 kHz μ-law RTP, a
 * planted name, e-mail address, card number and phone number. The numbers are read out in groups
 * with pauses, so the recogniser ends utterances mid-number and the appliance must redact across
 * utterances. Afterwards none of the planted values — nor what the recogniser actually made of
 * them — appear in the store (every table), the info-level logs, /metrics, the WebSocket event
 * stream, the calls API, the sync audit, or anything the collector (a real `edgevox collector` over
 * HTTPS) received or logged; and what must be there is: placeholders, redaction counts, the call's
 * aggregates.
 *
 * What the recogniser made of the speech is taken from the appliance's own recogniser: the test
 * builds the speech engine and passes it in with a tap that keeps the raw partials and finals in
 * the test's memory (the appliance itself keeps them only in memory, for analysis).
 *
 * Speech: flite's "rms" voice. espeak-ng (en-us, en-gb, en-gb-x-rp, en-us-nyc, klatt and m/f
 * variants at 100–150 wpm, pitch 30–70, word gaps 50–250 ms) is heard far worse at 8 kHz by this
 * recogniser ("FOR I FREE I FOR A NEAR FREE ..." for 4539 1488 ...); flite rms is heard almost
 * word for word. Both are synthetic and deterministic.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Appliance } from '../../../appliance/app/app.js';
import { MANIFEST_PATH } from '../../../appliance/buildInfo.js';
import { createSpeechEngine, type SpeechEngine } from '../../../appliance/calls/asrTranscriber.js';
import type { TranscriberFactory } from '../../../appliance/calls/transcriber.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import { ModelStore } from '../../../appliance/modelstore/modelStore.js';
import { captureLogger, startTestAppliance, testConfig, type CapturedLog } from '../../helpers/appliance.js';
import { authedFetch, authHeader, quietApplianceOverrides } from '../../helpers/auth.js';
import { REPO_ROOT, SHARED_MODELS_DIR, scratchDir } from '../../helpers/paths.js';
import { CLI } from '../../helpers/process.js';
import { freePort, haveTool, prepareClip, runSipp, SCENARIOS, type Workdir } from '../sip/harness.js';

const VOICE = 'rms';
/** Silence between segments: longer than the endpoint's 1.2 s, so each segment ends an utterance. */
const GAP_S = 1.4;
const SEGMENTS = [
  'My name is John Smith.',
  // "Okay." first: without it this recogniser merges "my email is mary" into one mangled word here.
  'Okay. My email is mary dot jones at example dot com.',
  // 4539 1488 0343 6467 (Luhn-valid), read in groups.
  'My card number is four five three nine,',
  'one four eight eight,',
  'zero three four three,',
  'six four six seven.',
  // 07700 900 123, read in groups: "NINE ZERO ZERO" and "ONE TWO THREE" alone are not personal data.
  'Please call me on zero seven seven zero zero,',
  'nine zero zero,',
  'one two three.',
];
/** The planted values, typed and spoken: none may appear anywhere (whole words, any case). */
const PLANTED = [
  '4539148803436467',
  '4539',
  '1488',
  '0343',
  '6467',
  '07700900123',
  '07700',
  '900123',
  'mary.jones@example.com',
  'mary.jones',
  'example.com',
  'John Smith',
  'JOHN',
  'SMITH',
  'MARY',
  'JONES',
  'FOUR FIVE THREE NINE',
  'ONE FOUR EIGHT EIGHT',
  'ZERO THREE FOUR THREE',
  'SIX FOUR SIX SEVEN',
  'ZERO SEVEN SEVEN ZERO ZERO',
  'NINE ZERO ZERO',
  'ONE TWO THREE',
];
const KEY = 'privacy-e2e-enrollment-key-0123456789';
const SITE = 'privacy-e2e';
const WINDOW_MS = 60_000;
const DIGIT = new Set([
  'ZERO',
  'OH',
  'O',
  'ONE',
  'TWO',
  'THREE',
  'FOUR',
  'FIVE',
  'SIX',
  'SEVEN',
  'EIGHT',
  'NINE',
  'WON',
  'TO',
  'TOO',
  'FOR',
  'FREE',
]);
/** Words of the e-mail utterance that are not part of the address. */
const EMAIL_FRAME = new Set(['MY', 'EMAIL', 'E-MAIL', 'MAIL', 'IS', 'AT', 'DOT', 'COM', 'THE', 'A', 'AND']);

let app: Appliance;
let log: CapturedLog;
let engine: SpeechEngine;
let work: Workdir;
let collector: ChildProcess;
let collectorLog = '';
let collectorUrl: string;
let collectorCa: Buffer;
let ws: WebSocket;
let clockShiftMs = 0;
const streamed: string[] = [];
/** What the appliance's recogniser produced, unredacted (kept in the test only). */
const rawFinals: string[] = [];
const rawPartials: string[] = [];
/** The recogniser's own latency per final (end of speech to final), to separate the redaction hold from it. */
const rawLatencyMs: number[] = [];

const COLLECTOR_READ_TOKEN = 'privacy-test-collector-read-token';

/** GET JSON from the HTTPS collector (with its read token), trusting its self-signed certificate. */
function collectorGet<T>(path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    https
      .get(`${collectorUrl}${path}`, { ca: collectorCa, headers: { authorization: `Bearer ${COLLECTOR_READ_TOKEN}` } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(JSON.parse(body) as T));
      })
      .on('error', reject);
  });
}

function synthesise(dir: string): string {
  const gap = join(dir, 'gap.wav');
  execFileSync('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', gap, 'trim', '0', String(GAP_S)]);
  const parts: string[] = [];
  SEGMENTS.forEach((text, i) => {
    const raw = join(dir, `seg${i}-raw.wav`);
    const seg = join(dir, `seg${i}.wav`);
    execFileSync('flite', ['-voice', VOICE, '-t', text, '-o', raw]);
    execFileSync('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', seg]);
    parts.push(seg, gap);
  });
  const wav = join(dir, 'speech.wav');
  execFileSync('sox', [...parts, wav]);
  return wav;
}

beforeAll(async () => {
  for (const tool of ['sipp', 'sox', 'flite', 'openssl']) if (!haveTool(tool)) throw new Error(`${tool} is required: run make setup`);
  const dir = scratchDir('privacy');
  work = prepareClip(synthesise(dir));

  // The collector over HTTPS with a self-signed certificate the appliance trusts through sync.caFile.
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const keys = join(dir, 'sites.json');
  writeFileSync(keys, JSON.stringify({ sites: { [SITE]: { enrollmentKey: KEY } } }));
  const readToken = join(dir, 'read-token');
  writeFileSync(readToken, `${COLLECTOR_READ_TOKEN}\n`, { mode: 0o600 });
  collector = spawn(
    process.execPath,
    [
      CLI,
      'collector',
      '--port',
      '0',
      '--data-dir',
      join(dir, 'collector'),
      '--key-file',
      keys,
      '--tls-cert',
      cert,
      '--tls-key',
      key,
      '--read-token-file',
      readToken,
    ],
    { cwd: REPO_ROOT },
  );
  collector.stdout!.on('data', (d: Buffer) => (collectorLog += d.toString()));
  collectorUrl = await new Promise<string>((resolve, reject) => {
    collector.stderr!.on('data', (d: Buffer) => {
      collectorLog += d.toString();
      const m = /collector listening on (\S+)/.exec(collectorLog);
      if (m) resolve(m[1]!);
    });
    collector.on('exit', (code) => reject(new Error(`collector exited ${code}: ${collectorLog}`)));
  });
  collectorCa = readFileSync(cert);

  // The appliance's recogniser, with a tap on its raw results.
  const models = new ModelStore({
    manifestPath: MANIFEST_PATH,
    modelsDir: SHARED_MODELS_DIR,
    repoRoot: REPO_ROOT,
    storeDir: scratchDir('models'),
  });
  models.installAll();
  engine = await createSpeechEngine(models, testConfig(), captureLogger().logger);
  const tapped: TranscriberFactory = (options, cb) =>
    engine.factory(options, {
      ...cb,
      partial: (text) => (rawPartials.push(text), cb.partial(text)),
      final: (t) => (rawFinals.push(t.text), rawLatencyMs.push(t.latencyMs), cb.final(t)),
    });

  ({ app, log } = await startTestAppliance(
    quietApplianceOverrides({
      site: { id: SITE },
      console: { enabled: true, httpsPort: 0 },
      upstream: { endpoint: `${collectorUrl}/api/v1/aggregates`, enrollmentKey: KEY },
      sync: {
        enabled: true,
        windowMs: WINDOW_MS,
        settleMs: 0,
        intervalMs: 250,
        kAnonymity: 1,
        caFile: cert,
        backoffBaseMs: 100,
        backoffMaxMs: 1000,
      },
    }),
    // The aggregation clock is moved past the call's window once the call has ended (no waiting for the minute to end).
    { transcribers: tapped, dataClock: () => Date.now() + clockShiftMs },
  ));
  ws = new WebSocket(`${app.httpUrl.replace('http', 'ws')}/api/v1/events`, { headers: authHeader(app, 'viewer') });
  ws.on('message', (d: Buffer) => streamed.push(d.toString()));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
}, 120_000);

afterAll(async () => {
  ws?.close();
  await app?.close();
  await engine?.close();
  collector?.kill('SIGTERM');
  work?.cleanup();
});

/**
 * The planted values as the recogniser produced them: runs of 3+ digit words within a final and
 * across consecutive finals, the words after "NAME IS", and the words of the e-mail utterance.
 */
function recognisedValues(finals: readonly string[]): string[] {
  const values: string[] = [];
  const digitRuns = (words: string[]) => {
    for (let i = 0; i < words.length;) {
      let j = i;
      while (j < words.length && DIGIT.has(words[j]!)) j++;
      if (j - i >= 3) values.push(words.slice(i, j).join(' '));
      i = Math.max(j, i + 1);
    }
  };
  for (const f of finals) {
    const words = f.split(/\s+/).filter(Boolean);
    digitRuns(words);
    const n = words.findIndex((w, i) => w === 'NAME' && words[i + 1] === 'IS');
    if (n >= 0)
      for (const w of words.slice(n + 2, n + 4)) if (/^[A-Z']{3,}$/.test(w) && !['AND', 'THE', 'CALLING'].includes(w)) values.push(w);
    if (/\bEMAIL\b|\bMAIL\b/.test(f) || (words.includes('AT') && words.includes('DOT'))) {
      // The words after the cue (all of them when the cue was not heard as such).
      const cue = words.findIndex((w) => w === 'EMAIL' || w === 'MAIL');
      for (const w of words.slice(cue + 1)) if (!EMAIL_FRAME.has(w) && /^[A-Z']{3,}$/.test(w)) values.push(w);
    }
  }
  return [...new Set(values)];
}

function dumpStore(): string {
  const tables = app.store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[];
  return tables.map((t) => `${t.name}: ${JSON.stringify(app.store.db.prepare(`SELECT * FROM "${t.name}"`).all())}`).join('\n');
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/**
 * A planted value standing as a word of its own. A value of digits never counts after a decimal
 * point: the store holds scores rounded to four places (an emotion score of 0.0343 is not the
 * planted card group 0343).
 */
const wholeWord = (v: string) => {
  const before = /^[\d ]+$/.test(v) ? '(^|[^A-Za-z0-9.])' : '(^|[^A-Za-z0-9])';
  return new RegExp(`${before}${escape(v).replace(/ /g, '\\s+')}($|[^A-Za-z0-9])`, 'i');
};

describe('planted personal data never leaves redaction', () => {
  it('calls, then checks the store, logs, metrics, events, calls API, sync audit and collector', async () => {
    const api = authedFetch(app, 'viewer');
    // The API is protected: nothing is readable without credentials.
    expect((await fetch(`${app.httpUrl}/api/v1/calls`)).status).toBe(401);

    const started = performance.now();
    const r = await runSipp(
      [
        `127.0.0.1:${app.sip!.port}`,
        '-sf',
        join(SCENARIOS, 'uac-pcmu-speech.xml'),
        '-m',
        '1',
        '-d',
        String(Math.ceil(work.ulaw.length / 8) + 1500),
        '-i',
        '127.0.0.1',
        '-p',
        String(await freePort()),
        '-mi',
        '127.0.0.1',
        '-mp',
        String(await freePort(true)),
        '-timeout',
        '60s',
        '-timeout_error',
      ],
      work.dir,
      70_000,
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (let i = 0; i < 200 && app.calls.activeCount > 0; i++) await new Promise((res) => setTimeout(res, 50));
    const callMs = performance.now() - started;
    const call = app.store.calls.list({ limit: 1 })[0]!;
    const callWindow = Math.floor(call.startedAt / WINDOW_MS) * WINDOW_MS;

    // Close the call's aggregation window now and wait for it to reach the collector.
    clockShiftMs = callWindow + WINDOW_MS + 1 - Date.now();
    let payloads: { idempotencyKey: string; body: { calls: { total: number | null } } }[] = [];
    for (let i = 0; i < 80; i++) {
      payloads = (await collectorGet<{ payloads: typeof payloads }>(`/api/v1/aggregates?site=${SITE}`)).payloads;
      if (payloads.some((p) => p.idempotencyKey === `${SITE}:${callWindow}`)) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    const mine = payloads.find((p) => p.idempotencyKey === `${SITE}:${callWindow}`);
    expect(mine, 'the call window reached the collector').toBeDefined();
    expect(mine!.body.calls.total).toBe(1);

    const utterances = app.store.utterances.listByCall(call.id);
    const stored = utterances.map((u) => u.text);
    const values = recognisedValues(rawFinals);
    const quality = streamed.map((s) => JSON.parse(s) as ApplianceEvent).filter((e) => e.type === 'call.quality');
    const finals = streamed.map((s) => JSON.parse(s) as ApplianceEvent).filter((e) => e.type === 'asr.final');
    console.log(
      [
        `call ${Math.round(callMs)} ms (audio ${Math.round(work.ulaw.length / 8)} ms)`,
        `recogniser (raw, test memory only): ${rawFinals.join(' | ')}`,
        `checked recognised values: ${JSON.stringify(values)}`,
        `stored: ${stored.join(' | ')}`,
        `final latency ms, published (recogniser + redaction hold): ${finals.map((e, i) => (e.type === 'asr.final' ? `${Math.round(e.latencyMs)} (${Math.round(rawLatencyMs[i] ?? 0)} + ${Math.round(e.latencyMs - (rawLatencyMs[i] ?? 0))})` : '')).join(', ')}`,
        `redaction hold per leg: ${JSON.stringify(quality.map((e) => (e.type === 'call.quality' ? { finals: rawFinals.length, held: e.quality['redactionHeldFinals'], meanMs: e.quality['redactionHeldMsMean'], maxMs: e.quality['redactionHeldMsMax'] } : null)))}`,
      ].join('\n'),
    );

    // The speech was recognised well enough for the check to mean something: the card and the
    // phone number as digit runs, the name and the address, and the numbers split across finals.
    expect(
      values.filter((v) => v.split(' ').length >= 3 && v.split(' ').every((w) => DIGIT.has(w))).length,
      `digit runs heard: ${rawFinals.join(' | ')}`,
    ).toBeGreaterThanOrEqual(4);
    expect(values, 'the name was heard').toEqual(expect.arrayContaining(['JOHN', 'SMITH']));
    expect(
      rawFinals.some((f) => /\bAT EXAMPLE\b/.test(f)),
      'the address was heard',
    ).toBe(true);
    expect(rawFinals.length, 'the numbers reached the appliance in several utterances').toBeGreaterThanOrEqual(7);

    const metricsRes = await fetch(`${app.httpUrl}/metrics`);
    expect(metricsRes.status, '/metrics answers after the call').toBe(200);
    const sinks: Record<string, string> = {
      store: dumpStore(),
      logs: JSON.stringify(log.lines.filter((l) => Number(l['level']) >= 30)),
      metrics: await metricsRes.text(),
      events: streamed.join('\n'),
      callsApi: await (await api(`/api/v1/calls/${call.id}`)).text(),
      syncAudit: await (await api('/api/v1/sync/audit?limit=500')).text(),
      collector: JSON.stringify(payloads),
      collectorLog,
    };
    expect(sinks['callsApi']).toContain(call.id);
    for (const [sink, text] of Object.entries(sinks)) {
      for (const v of [...values, ...PLANTED]) expect(wholeWord(v).test(text), `${sink} contains "${v}"`).toBe(false);
    }

    // What must be there: placeholders in the transcript and the events (the card in every piece it
    // was read in), redaction counts, a hold on the leg, the aggregates and the audit of the upload.
    const joined = stored.join(' | ');
    expect(joined).toMatch(/\[NAME\]/);
    expect(joined).toMatch(/\[EMAIL\]/);
    expect(stored.filter((t) => t.includes('[CARD]')).length, joined).toBeGreaterThanOrEqual(2);
    expect(joined).toMatch(/\[PHONE\]|\[DIGITS\]/);
    expect(sinks['events']).toMatch(/\[CARD\]/);
    for (const c of ['card', 'name', 'email'])
      expect(sinks['metrics']).toMatch(new RegExp(`^edgevox_redactions_total\\{category="${c}"\\} [1-9]`, 'm'));
    expect(quality.some((e) => e.type === 'call.quality' && Number(e.quality['redactionHeldFinals']) > 0)).toBe(true);
    const audit = JSON.parse(sinks['syncAudit']!) as { entries: { outcome: string; idempotencyKey: string }[] };
    expect(audit.entries.some((e) => e.outcome === 'accepted' && e.idempotencyKey === `${SITE}:${callWindow}`)).toBe(true);
    expect(readFileSync(join(app.config.dataDir, 'secrets', 'store-key')).length).toBeGreaterThan(0);
  }, 120_000);
});
