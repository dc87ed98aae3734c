/**
 * Shared rig of the ACD end-to-end tests with real phones (baresip 1.0, sipp): an appliance in
 * `acd.mode: 'acd'` whose bus and SIP events are watched with arrival times, espeak-ng clips for
 * the phones' microphones, the routing configuration (banking77Sample groups, agents with or
 * without a SIP account), the KPI and agent APIs, and what a phone heard (baresip's sndfile dump)
 * cut and transcribed with the appliance's own recogniser.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Appliance } from '../../../appliance/app/app.js';
import { readWavFile, transcribeAudio } from '../../../appliance/asr/transcribeFile.js';
import type { WavAudio } from '../../../appliance/audio/wav.js';
import type { ApplianceEvent } from '../../../appliance/events/appEvents.js';
import type { PromptManifest } from '../../../appliance/prompts/promptStore.js';
import { banking77Sample } from '../../../appliance/routing/samples.js';
import type { RoutingConfigInput } from '../../../appliance/routing/schemas.js';
import type { CallEndedEvent, CallOutboundEvent, CallStartedEvent } from '../../../appliance/telephony/types.js';
import { startTestAppliance, type CapturedLog } from '../../helpers/appliance.js';
import { authedFetch } from '../../helpers/auth.js';
import type { BaresipControl, BaresipEvent } from '../../helpers/baresip.js';
import { REPO_ROOT } from '../../helpers/paths.js';
import { haveTool, rms } from '../sip/harness.js';

// The caller's request: this espeak-ng voice through the small 8 kHz recogniser comes out as
// "LOST MY CARD CAN YOU ... LOCK IT ..." (as in test/e2e/routing/sip-routed-transfer.test.ts):
// intent lost_or_stolen_card, routed to the security group.
export const REQUEST = 'I lost my card. Can you block it please?';
export const CALLER_VOICE = 'en-us+m3';
export const CALLER_SPEED = '140';
// Alice's sentence, in a different voice: measured offline at 8 kHz μ-law as
// "IT'S IN ALICE FROM CARD SECURE ALREADY I AM BLOCKED YOUR CARD".
export const AGENT_SENTENCE = 'This is Alice from card security. I have blocked your card.';
export const AGENT_VOICE = 'en-us+m7';
export const AGENT_SPEED = '120';
/** Words only Alice says (any of its spellings by the recogniser): never under `caller`. */
export const AGENT_WORDS = ['ALICE', 'MALICE', 'FROM', 'SECURE', 'SECURITY', 'BLOCKED', 'YOUR'];
/** Words only the caller says: never under `agent`. */
export const CALLER_WORDS = ['LOST', 'MY', 'CAN', 'PLEASE'];
export const ALICE_PASSWORD = 'alice-desk-phone-1';
/** Silence after each sentence: longer than any call (baresip hangs up when its file ends). */
export const TRAIL_S = 100;

export const PROMPTS = path.join(REPO_ROOT, 'dist', 'prompts', 'en');

/** The sox and espeak-ng tools the clips need (installed by make setup). */
export function requireTools(): void {
  for (const tool of ['sox', 'espeak-ng']) if (!haveTool(tool)) throw new Error(`${tool} is required: run make setup`);
}

/** A built prompt (make prompts, part of make build): its text and length. */
export function prompt(name: string): { text: string; durationMs: number } {
  const manifest = JSON.parse(readFileSync(path.join(PROMPTS, 'manifest.json'), 'utf8')) as PromptManifest;
  const p = manifest.prompts.find((x) => x.name === name);
  if (p === undefined) throw new Error(`no prompt ${name} in ${PROMPTS}: run make build`);
  return { text: p.text ?? '', durationMs: p.durationMs };
}

/** The API with a principal (every /api route needs one): technician unless told. */
export const apiFetch = (app: Appliance, url: string, init?: RequestInit, role: 'technician' | 'supervisor' = 'technician') =>
  authedFetch(app, role)(url, init);

/** GET an API path as JSON, failing on any status but 200. */
export async function getJson<T = any>(app: Appliance, url: string, role: 'technician' | 'supervisor' = 'technician'): Promise<T> {
  const res = await apiFetch(app, url, undefined, role);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** espeak-ng → mono 16-bit 8 kHz WAV with `lead` s of silence before and `trail` s after. */
export function micWav(dir: string, name: string, text: string, voice: string, speed: string, lead: number, trail: number): string {
  const raw = path.join(dir, `${name}-raw.wav`);
  const out = path.join(dir, `${name}.wav`);
  execFileSync('espeak-ng', ['-v', voice, '-s', speed, '-w', raw, text]);
  execFileSync(
    'sox',
    [raw, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', '-t', 'wav', out, 'pad', String(lead), String(trail)],
    {
      stdio: 'ignore',
    },
  );
  return out;
}

/** A scratch directory for the clips, removed by the returned function. */
export function clipDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'evx-acd-e2e-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const wordsOf = (text: string): string[] =>
  text
    .toUpperCase()
    .replace(/[^A-Z']+/g, ' ')
    .trim()
    .split(/\s+/)
    .filter(Boolean);

/** Everything the test watches, timestamped on arrival, with waiters that never miss an early event. */
export class Watch<T> {
  readonly items: { at: number; e: T }[] = [];
  private waiters: { pred: (e: T) => boolean; resolve: (v: { at: number; e: T }) => void }[] = [];
  push(e: T): void {
    const item = { at: Date.now(), e };
    this.items.push(item);
    for (const w of this.waiters.filter((x) => x.pred(e))) {
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve(item);
    }
  }
  find(pred: (e: T) => boolean): { at: number; e: T } | undefined {
    return this.items.find((i) => pred(i.e));
  }
  filter(pred: (e: T) => boolean): { at: number; e: T }[] {
    return this.items.filter((i) => pred(i.e));
  }
  /** The first matching event (already seen or still to come). */
  wait(pred: (e: T) => boolean, timeoutMs: number, what: string, explain: () => string = () => ''): Promise<{ at: number; e: T }> {
    const seen = this.find(pred);
    if (seen) return Promise.resolve(seen);
    return this.next(pred, timeoutMs, what, explain);
  }
  /** The next matching event from now on (ignores those already seen). */
  next(pred: (e: T) => boolean, timeoutMs: number, what: string, explain: () => string = () => ''): Promise<{ at: number; e: T }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x.resolve !== done);
        reject(new Error(`no ${what} within ${timeoutMs} ms\n${explain()}`));
      }, timeoutMs);
      const done = (v: { at: number; e: T }): void => {
        clearTimeout(timer);
        resolve(v);
      };
      this.waiters.push({ pred, resolve: done });
    });
  }
}

export type SipEvent =
  ({ kind: 'started' } & CallStartedEvent) | ({ kind: 'outbound' } & CallOutboundEvent) | ({ kind: 'ended' } & CallEndedEvent);

export type BusEvent<K extends ApplianceEvent['type']> = Extract<ApplianceEvent, { type: K }>;

/** A baresip event with the time it arrived here (the helper keeps none). */
export function stamped(
  phone: BaresipControl,
  type: string | ((e: BaresipEvent) => boolean),
  timeoutMs: number,
): Promise<{ at: number; e: BaresipEvent }> {
  const pred = typeof type === 'string' ? (e: BaresipEvent) => e.type === type : type;
  return phone.waitForEvent(pred, timeoutMs).then((e) => ({ at: Date.now(), e }));
}

/** A waiter that is awaited later: its rejection is kept for then, never unhandled meanwhile. */
export function later<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * The phone's first sight of an incoming INVITE. baresip 1.0 sends CALL_INCOMING only when it does
 * not answer by itself; with answermode=auto the first event of the call is CALL_REMOTE_SDP (offer).
 */
export const incomingInvite = (e: BaresipEvent): boolean =>
  e.type === 'CALL_INCOMING' || (e.type === 'CALL_REMOTE_SDP' && e.param === 'offer');

export async function until(cond: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond() && Date.now() < deadline) await new Promise((r) => setTimeout(r, stepMs));
  return cond();
}

/** Poll an async condition (an API reply) until it holds; returns the last value. */
export async function untilAsync<T>(read: () => Promise<T>, cond: (v: T) => boolean, timeoutMs: number, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await read();
  while (!cond(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, stepMs));
    v = await read();
  }
  return v;
}

export const slice = (a: WavAudio, fromMs: number, toMs: number): WavAudio => {
  const from = Math.max(0, Math.round((fromMs * a.sampleRateHz) / 1000));
  const to = Math.min(a.samples.length, Math.round((toMs * a.sampleRateHz) / 1000));
  const samples = a.samples.slice(from, Math.max(from, to));
  return { ...a, samples, durationMs: (samples.length * 1000) / a.sampleRateHz };
};

/** RMS of each `stepMs` window of the audio: the shape of what a phone heard, for failure messages. */
export function envelope(a: WavAudio, stepMs = 500): number[] {
  const step = Math.round((a.sampleRateHz * stepMs) / 1000);
  const out: number[] = [];
  for (let i = 0; i < a.samples.length; i += step) out.push(Math.round(rms(a.samples, i, Math.min(a.samples.length, i + step))));
  return out;
}

/**
 * Where sound starts again at or after `fromMs` (the first 20 ms window louder than `threshold`),
 * in ms; null when it never does. Cuts made from it do not move with the test's event timing.
 */
export function onsetMs(a: WavAudio, fromMs: number, threshold = 300): number | null {
  const step = Math.round(a.sampleRateHz / 50);
  for (let i = Math.max(0, Math.round((fromMs * a.sampleRateHz) / 1000)); i + step <= a.samples.length; i += step)
    if (rms(a.samples, i, i + step) > threshold) return (i * 1000) / a.sampleRateHz;
  return null;
}

/** What the phone heard on its (only) call: baresip's sndfile `-dec` dump (option `record`). */
export function heardBy(phone: BaresipControl): WavAudio {
  const files = phone.recordings().filter((f) => f.endsWith('-dec.wav'));
  if (files.length !== 1) throw new Error(`expected one -dec recording, got: ${phone.recordings().join(', ') || 'none'}`);
  return readWavFile(files[0]!);
}

/** An agent of the routing configuration; `password` gives it a SIP account (username = id). */
export function agentConfig(id: string, group: string, password?: string): RoutingConfigInput['agents'][number] {
  return {
    id,
    name: id,
    sipUri: `sip:${id}@127.0.0.1:5060`,
    senior: false,
    skills: [{ group, level: 3 }],
    ...(password !== undefined ? { sip: { username: id, password } } : {}),
  };
}

type Group = RoutingConfigInput['groups'][number];

/** banking77Sample's groups with `patch` merged into some of them (e.g. a `queue` policy). */
export function sampleGroups(patch: Record<string, Partial<Group>> = {}): Group[] {
  return banking77Sample().groups.map((g) => ({ ...g, ...(patch[g.id] ?? {}) }));
}

/** PUT the whole routing configuration: the sample rules, these groups and agents. */
export async function putRouting(app: Appliance, groups: Group[], agents: RoutingConfigInput['agents']): Promise<void> {
  const put = await apiFetch(app, `/api/v1/routing/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ groups, rules: banking77Sample().rules, agents }),
  });
  if (put.status !== 200) throw new Error(`PUT /api/v1/routing/config: ${put.status} ${await put.text()}`);
}

/** The per-interval figures of GET /api/v1/acd/kpis (appliance/api/routes/acd.ts). */
export interface QueueKpis {
  offered: number;
  answered: number;
  abandoned: number;
  shortAbandoned: number;
  overflowedOut: number;
  [k: string]: unknown;
}
export interface RealTimeKpis {
  waiting: number;
  longestWaitingS: number | null;
  agents: Record<'available' | 'ringing' | 'on-call' | 'wrap-up' | 'away', number>;
  currentInterval: QueueKpis;
}
export interface KpisReply {
  at: number;
  interval: { start: number; end: number };
  groups: Record<string, RealTimeKpis>;
  overall: RealTimeKpis;
}

export const kpis = (app: Appliance): Promise<KpisReply> => getJson<KpisReply>(app, '/api/v1/acd/kpis', 'supervisor');

/** The counting figures of a KPI view and who waits in it now. */
export interface Tally {
  offered: number;
  answered: number;
  abandoned: number;
  transferred: number;
  waiting: number;
}
/**
 * The counts of a KPI view (overall, or one skill group) summed over the box's intervals of the last
 * day (GET /api/v1/acd/kpis/intervals; a test's box is new, so that is all of its calls), and who
 * waits now: the figures hold whichever 15-minute boundary falls inside a test, where the current
 * interval alone would lose what came before the boundary.
 */
export async function tally(app: Appliance, group?: string): Promise<Tally> {
  const r = await getJson<{ intervals: { overall: Record<string, unknown>; groups: Record<string, Record<string, unknown>> }[] }>(
    app,
    `/api/v1/acd/kpis/intervals?to=${Date.now() + 1}`,
    'supervisor',
  );
  const sum = (key: string) => r.intervals.reduce((n, i) => n + Number((group === undefined ? i.overall : i.groups[group])?.[key] ?? 0), 0);
  const now = await kpis(app);
  const waiting = (group === undefined ? now.overall : now.groups[group])?.waiting ?? 0;
  return { offered: sum('offered'), answered: sum('answered'), abandoned: sum('abandoned'), transferred: sum('transferred'), waiting };
}

/** Transcribe part of what a phone heard with the appliance's recogniser (no VAD: the whole slice). */
export async function transcribeHeard(app: Appliance, heard: WavAudio, fromMs: number, toMs: number, name: string): Promise<string> {
  const t = await transcribeAudio(app.speech!.recognizer, slice(heard, fromMs, toMs), name, { vad: false });
  return t.text;
}

/** The appliance in ACD mode and everything the tests watch on it. */
export interface AcdRig {
  readonly app: Appliance;
  readonly log: CapturedLog;
  readonly bus: Watch<ApplianceEvent>;
  readonly sip: Watch<SipEvent>;
  /** Phones to close at the end (newest first). */
  readonly phones: BaresipControl[];
  /** Bus and SIP events, the box's SIP resources, its log tail and every phone's events and log. */
  readonly explain: () => string;
  readonly close: () => Promise<void>;
}

/**
 * Start the appliance in ACD mode (`overrides` are merged over the ACD defaults of these tests: no
 * console or WebRTC, MD5-only digest for baresip 1.0) and watch its bus (asr.partial left out) and
 * its SIP server's call events.
 */
export async function startAcdRig(overrides: Record<string, unknown> = {}): Promise<AcdRig> {
  const { acd, sip: sipOverrides, ...rest } = overrides as { acd?: Record<string, unknown>; sip?: Record<string, unknown> };
  const { app, log } = await startTestAppliance({
    console: { enabled: false },
    webrtc: { enabled: false },
    acd: { mode: 'acd', ringTimeoutS: 10, ...acd },
    // libre 1.1 (baresip 1.0) gives up on a 401 carrying any non-MD5 challenge
    sip: { registrar: { algorithms: ['MD5'] }, ...sipOverrides },
    ...rest,
  });
  const bus = new Watch<ApplianceEvent>();
  const sip = new Watch<SipEvent>();
  const phones: BaresipControl[] = [];
  app.bus.subscribe((e) => {
    if (e.type !== 'asr.partial') bus.push(e);
  });
  app.sip!.events.on('call.started', (e) => sip.push({ kind: 'started', ...e }));
  app.sip!.events.on('call.outbound', (e) => sip.push({ kind: 'outbound', ...e }));
  app.sip!.events.on('call.ended', (e) => sip.push({ kind: 'ended', ...e }));

  const busText = (): string =>
    bus.items
      .map(({ e }) =>
        e.type === 'asr.final'
          ? `final(${e.speaker}):${e.text}`
          : e.type === 'intent'
            ? `intent:${e.intent}:${e.confidence.toFixed(2)}`
            : e.type === 'route.decision'
              ? `decision:${e.trigger}:${e.action}:${e.groupId}:${e.agentId}`
              : e.type === 'agent.state'
                ? `agent.state:${e.agentId}:${e.from}->${e.to}(${e.reason}${e.awayReason ? `/${e.awayReason}` : ''})`
                : e.type,
      )
      .join(', ');
  const sipText = (): string =>
    sip.items
      .map(({ e }) =>
        e.kind === 'outbound'
          ? `outbound:${e.state}:${e.status ?? ''}:${e.reason ?? ''}`
          : e.kind === 'ended'
            ? `ended:${e.direction}:${e.reason}`
            : `started:${e.mode}`,
      )
      .join(', ');
  const appLog = (): string =>
    log.lines
      .filter((l) => (l['level'] as number) >= 30)
      .slice(-40)
      .map((l) => JSON.stringify(l))
      .join('\n');
  return {
    app,
    log,
    bus,
    sip,
    phones,
    explain: () =>
      [
        `bus: ${busText()}`,
        `sip: ${sipText()}`,
        `sip resources: ${JSON.stringify(app.sip!.resources())}`,
        `app log:\n${appLog()}`,
        ...phones.map((p, i) => `phone ${i} (${p.aor}):\n${p.describe()}`),
      ].join('\n'),
    close: async () => {
      for (const p of phones.splice(0).reverse()) await p.close();
      await app.close();
    },
  };
}

/** Log lines of the appliance with this message (pino's `msg`). */
export const logLines = (log: CapturedLog, msg: string): Record<string, unknown>[] => log.lines.filter((l) => l['msg'] === msg);

// bob, the second agent of the transfer tests (cards group)
export const BOB_PASSWORD = 'bob-desk-phone-1';
export const BOB_SENTENCE = 'Hello, this is Bob. Your new card is on the way today.';
export const BOB_WORDS = ['BOB', 'NEW', 'CARD', 'WAY', 'TODAY'];

/** The first `agent` final of `callId` at or after `afterAt` with one of `words` (e.g. the new agent after a transfer). */
export function agentWords(
  rig: AcdRig,
  callId: string,
  words: readonly string[],
  afterAt: number,
  what: string,
): Promise<{ at: number; e: ApplianceEvent }> {
  return rig.bus.wait(
    (e) =>
      e.type === 'asr.final' &&
      e.callId === callId &&
      e.speaker === 'agent' &&
      e.at >= afterAt &&
      wordsOf(e.text).some((w) => words.includes(w)),
    40_000,
    what,
    rig.explain,
  );
}

/** Whether every SIP call, RTP port pair and pending INVITE of the box is gone within `timeoutMs`. */
export function sipReleased(app: Appliance, timeoutMs = 10_000): Promise<boolean> {
  return until(() => {
    const r = app.sip!.resources();
    return r.calls === 0 && r.rtpPortPairs === 0 && r.pendingInvites === 0;
  }, timeoutMs);
}
