/**
 * `make eval-routing`: BANKING77 test utterances spoken by espeak-ng (several voices), sent through
 * an 8 kHz G.711 μ-law round trip, recognised by the streaming ASR (VAD + endpointing, the product
 * path), classified by the shipped intent model (and the emotion model where present) and routed
 * by the RoutingService on the sample bank configuration (scratch store). Prints the end-to-end
 * routing accuracy against the groups of the text labels and the p95 decision latency (final
 * transcript → stored, published decision) as its last lines.
 *
 * Options (env): EVAL_ROUTING_N (default 200 utterances, 0 = the whole test set), EVAL_ROUTING_SEED,
 * EVAL_ROUTING_VOICES (comma list), EDGEVOX_SHARED.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseWav } from '../../appliance/audio/wav.js';
import { resolveModelPaths } from '../../appliance/asr/modelFiles.js';
import { Recognizer } from '../../appliance/asr/recognizer.js';
import { mulawRoundTrip8k } from '../asr/telephone.js';
import { transcribeAudio } from '../../appliance/asr/transcribeFile.js';
import { emotionWindow } from '../../appliance/analysis/emotionAnalyser.js';
import { EmotionAnalyser } from '../../appliance/emotion/analyser.js';
import { EventBus } from '../../appliance/events/appEvents.js';
import { IntentClassifier } from '../../appliance/intent/classifier.js';
import { defaultEmotionSidecar, defaultIntentSidecar } from '../../appliance/intent/modelPaths.js';
import { Store } from '../../appliance/store/database.js';
import { RoutingRepo } from '../../appliance/routing/repo.js';
import { groupForIntent } from '../../appliance/routing/engine.js';
import { banking77Sample } from '../../appliance/routing/samples.js';
import { RoutingService } from '../../appliance/routing/routingService.js';
import { DEFAULT_RULES } from '../../appliance/routing/types.js';

/** Banking words a bank would list in asr.hotwords: products and actions callers name. */
export const BANK_HOTWORDS = [
  'card',
  'my card',
  'new card',
  'virtual card',
  'physical card',
  'disposable card',
  'contactless',
  'pin',
  'atm',
  'cash',
  'withdrawal',
  'top up',
  'top-up',
  'transfer',
  'bank transfer',
  'payment',
  'card payment',
  'refund',
  'charge',
  'fee',
  'exchange rate',
  'currency',
  'account',
  'balance',
  'statement',
  'direct debit',
  'cheque',
  'deposit',
  'verify my identity',
  'identity',
  'stolen',
  'lost',
  'blocked',
  'declined',
  'pending',
  'apple pay',
  'google pay',
  'visa',
  'mastercard',
  'beneficiary',
  'passcode',
  'app',
];

const DEFAULT_VOICES = ['en-us', 'en-us+m3', 'en-gb', 'en-us+f3', 'en-gb-x-rp'];

/** BANKING77 CSV rows (text,category), quotes handled. */
export function parseBankingCsv(csv: string): { text: string; label: string }[] {
  const rows: { text: string; label: string }[] = [];
  for (const line of csv.split(/\r?\n/).slice(1)) {
    if (line.trim() === '') continue;
    const comma = line.lastIndexOf(',');
    let text = line.slice(0, comma);
    if (text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).replace(/""/g, '"');
    rows.push({ text, label: line.slice(comma + 1).trim() });
  }
  return rows;
}

/** Deterministic sample of n rows (mulberry32 shuffle). */
function sample<T>(rows: readonly T[], n: number, seed: number): T[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...rows];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return n > 0 ? copy.slice(0, n) : copy;
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function main(): Promise<number> {
  const shared = process.env['EDGEVOX_SHARED'] ?? '../shared';
  const csvPath = join(shared, 'datasets', 'intent', 'banking77', 'test.csv');
  if (!existsSync(csvPath)) {
    process.stderr.write(`eval-routing: ${csvPath} is missing (EDGEVOX_SHARED)\n`);
    return 1;
  }
  const n = Number(process.env['EVAL_ROUTING_N'] ?? 200);
  const seed = Number(process.env['EVAL_ROUTING_SEED'] ?? 77);
  const voices = (process.env['EVAL_ROUTING_VOICES'] ?? DEFAULT_VOICES.join(',')).split(',').filter(Boolean);
  // Site vocabulary for the recogniser (asr.hotwords in the appliance config): EVAL_ROUTING_HOTWORDS=off to compare.
  const hotwords = process.env['EVAL_ROUTING_HOTWORDS'] === 'off' ? [] : BANK_HOTWORDS;
  const rows = sample(parseBankingCsv(readFileSync(csvPath, 'utf8')), n, seed);

  const paths = resolveModelPaths({ modelDir: process.env['ASR_MODEL_DIR'], vadModel: process.env['VAD_MODEL'] });
  const recognizer = await Recognizer.create({ modelDir: paths.modelDir, vadModelPath: paths.vadModelPath, threads: 1 });
  const intent = await IntentClassifier.load(defaultIntentSidecar(), { topK: 10 });
  const emotion = existsSync(defaultEmotionSidecar()) ? await EmotionAnalyser.load(defaultEmotionSidecar()) : null;
  const work = mkdtempSync(join(tmpdir(), 'evx-eval-routing-'));
  const store = Store.open(work);
  const bus = new EventBus();
  const service = new RoutingService({
    repo: new RoutingRepo(store.db, store.write.bind(store)),
    bus,
    logger: pino({ level: 'silent' }),
    transfer: false,
  });
  const config = banking77Sample();
  service.configure(config);
  const rules = service.rules();
  const groups = service.groupList();

  process.stdout.write(
    `eval-routing: ${rows.length} BANKING77 test utterances (seed ${seed}), voices ${voices.join(', ')}, espeak-ng → 8 kHz G.711 μ-law → ASR (VAD + endpointing${hotwords.length > 0 ? `, ${hotwords.length} bank hotwords` : ''}) → intent${emotion ? ' + emotion' : ''} → route\n`,
  );
  const SWEEP = [0, 0.2, 0.3, 0.4, 0.5];
  const sweepOk = SWEEP.map(() => 0);
  const perVoice = new Map<string, { n: number; ok: number }>();
  let routedOk = 0;
  let textRoutedOk = 0;
  let intentOk = 0;
  const latencies: number[] = [];
  /** CPU time the process spent on each decision: what it costs on an idle core (the box is shared). */
  const cpuTimes: number[] = [];
  const asrRtf: number[] = [];
  try {
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const voice = voices[i % voices.length]!;
      const wavPath = join(work, 'u.wav');
      execFileSync('espeak-ng', ['-v', voice, '-s', '150', '-w', wavPath, row.text]);
      const audio = mulawRoundTrip8k(parseWav(readFileSync(wavPath), 'u.wav'));
      const t0 = performance.now();
      const t = await transcribeAudio(recognizer, audio, `u${i}`, hotwords.length > 0 ? { hotwords } : {});
      asrRtf.push((performance.now() - t0) / audio.durationMs);
      // the final transcript is in: from here on is the decision latency the runtime sees
      const finalAt = performance.now();
      const cpu0 = process.cpuUsage();
      const callId = `eval-${i}`;
      store.calls.create({ id: callId, source: 'sip', callerHash: null, startedAt: Date.now() });
      const [ir, er] = await Promise.all([
        intent.classify(t.text),
        emotion ? emotion.analyse(emotionWindow(audio.samples, audio.sampleRateHz, 4000), audio.sampleRateHz) : Promise.resolve(null),
      ]);
      const decision = service.route(
        {
          callId,
          intent: { intent: ir.intent, confidence: ir.confidence, outOfScope: ir.outOfScope, top: ir.top },
          emotion:
            er === null
              ? null
              : { category: er.category, angry: er.scores['angry'] ?? 0, arousal: er.arousal, valence: er.valence, trend: 'unknown' },
          profile: null,
        },
        finalAt,
      );
      latencies.push(performance.now() - finalAt);
      const cpu = process.cpuUsage(cpu0);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
      if (decision.agentId !== null) service.setAgentState(decision.agentId, 'available');
      const want = groupForIntent(
        { callId, intent: { intent: row.label, confidence: 1, outOfScope: false }, emotion: null, profile: null },
        groups,
        { ...DEFAULT_RULES, ...rules },
      ).groupId;
      if (decision.requestedGroupId === want) routedOk++;
      const pv = perVoice.get(voice) ?? { n: 0, ok: 0 };
      pv.n++;
      if (decision.requestedGroupId === want) pv.ok++;
      perVoice.set(voice, pv);
      SWEEP.forEach((th, k) => {
        const g = groupForIntent({ callId, intent: { ...ir }, emotion: null, profile: null }, groups, {
          ...DEFAULT_RULES,
          ...rules,
          groupMassThreshold: th,
        }).groupId;
        if (g === want) sweepOk[k]!++;
      });
      if (ir.intent === row.label && !ir.outOfScope) intentOk++;
      const clean = await intent.classify(row.text);
      const cleanGroup = groupForIntent({ callId, intent: clean, emotion: null, profile: null }, groups, {
        ...DEFAULT_RULES,
        ...rules,
      }).groupId;
      if (cleanGroup === want) textRoutedOk++;
      if (process.env['EVAL_ROUTING_VERBOSE'] === '1') {
        process.stdout.write(
          `  [${voice}] ${row.label} → ${want} | asr: ${t.text.toLowerCase()} | ${ir.intent} ${ir.confidence.toFixed(2)}${ir.outOfScope ? ' oos' : ''} → ${decision.requestedGroupId}\n`,
        );
      }
      if ((i + 1) % 25 === 0) process.stdout.write(`  ${i + 1}/${rows.length}: routing ${((100 * routedOk) / (i + 1)).toFixed(1)}%\n`);
    }
  } finally {
    service.close();
    store.close();
    rmSync(work, { recursive: true, force: true });
    await recognizer.close();
    await intent.close();
    await emotion?.close();
  }
  const pct = (k: number) => ((100 * k) / rows.length).toFixed(1);
  // What the group-mass rule costs: CLINC150 out-of-scope test utterances (clean text) wrongly sent to a bank group.
  const oosPath = join(shared, 'datasets', 'intent', 'clinc150', 'data_full.json');
  if (existsSync(oosPath)) {
    const oos = (JSON.parse(readFileSync(oosPath, 'utf8')) as { oos_test?: [string, string][] }).oos_test ?? [];
    const clf = await IntentClassifier.load(defaultIntentSidecar(), { topK: 10 });
    const falseRouted = SWEEP.map(() => 0);
    for (const [text] of oos) {
      const r = await clf.classify(text);
      SWEEP.forEach((th, k) => {
        const g = groupForIntent({ callId: 'oos', intent: r, emotion: null, profile: null }, groups, {
          ...DEFAULT_RULES,
          ...rules,
          groupMassThreshold: th,
        }).groupId;
        if (g !== rules.defaultGroup) falseRouted[k]!++;
      });
    }
    await clf.close();
    process.stdout.write(
      `group-mass threshold sweep (routing accuracy on speech | CLINC150 out-of-scope test text sent to a bank group, ${oos.length} utterances):\n`,
    );
    SWEEP.forEach((th, k) =>
      process.stdout.write(
        `  ${th === 0 ? 'off' : th.toFixed(1)}: ${pct(sweepOk[k]!)}% | ${((100 * falseRouted[k]!) / Math.max(1, oos.length)).toFixed(1)}%${th === rules.groupMassThreshold ? '  (configured)' : ''}\n`,
      ),
    );
  }
  process.stdout.write(
    `routing accuracy per voice: ${[...perVoice].map(([v, x]) => `${v} ${((100 * x.ok) / x.n).toFixed(0)}% (${x.n})`).join(', ')}\n`,
  );
  process.stdout.write(`ASR real-time factor (mean): ${(asrRtf.reduce((s, x) => s + x, 0) / asrRtf.length).toFixed(3)}\n`);
  process.stdout.write(`intent top-1 accuracy on the ASR transcripts (in scope and correct): ${pct(intentOk)}%\n`);
  process.stdout.write(`routing accuracy on the clean text (no speech, same model and groups): ${pct(textRoutedOk)}%\n`);
  process.stdout.write(
    `decision latency (final transcript → stored, published decision): p50 ${percentile(latencies, 50).toFixed(2)} ms, max ${Math.max(...latencies).toFixed(2)} ms\n`,
  );
  process.stdout.write(
    `decision CPU time (all threads, final → decision): p50 ${percentile(cpuTimes, 50).toFixed(2)} ms, p95 ${percentile(cpuTimes, 95).toFixed(2)} ms; load average at the end ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores\n`,
  );
  process.stdout.write(
    `end-to-end routing accuracy (${rows.length} utterances, ${voices.length} voices, 8 kHz G.711): ${pct(routedOk)}%\n`,
  );
  process.stdout.write(`p95 decision latency: ${percentile(latencies, 95).toFixed(2)} ms\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`eval-routing: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
