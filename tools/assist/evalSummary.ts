/**
 * make eval-summary: the post-call summariser on the 20 scripted calls of
 * test/fixtures/assist/calls.json against the hand-written references. The caller's turns go
 * through the shipped intent models (English: BANKING77; Mandarin: CrossWOZ) as the intent analyser
 * would store them; the summary is then built as on the box. Reported per split (tune, held out):
 * reason accuracy, outcome accuracy, follow-up detection (precision and recall of items, matched on
 * their normalised time; who agrees), ROUGE-L F1 of the text, and ROUGE-L of a lead baseline (the
 * caller's first substantive turn and the agent's next one). Per-call lines only for the tune split
 * (`--details`), so the held-out half is never read while tuning.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IntentClassifier } from '../../appliance/intent/classifier.js';
import { defaultIntentSidecar, defaultIntentZhSidecar, repositoryRoot } from '../../appliance/intent/modelPaths.js';
import { summariseCall, type CallSummary, type SummaryUtterance } from '../../appliance/summary/summariser.js';
import { findTimeExpressions } from '../../appliance/summary/timeExpressions.js';
import { rougeLF1 } from './rougeL.js';

interface RefFollowUp {
  who: string;
  what: string;
  when: string;
}
interface ScriptedCall {
  id: string;
  split: 'tune' | 'heldout';
  language: 'en' | 'zh';
  domain: string;
  turns: { speaker: 'caller' | 'agent'; text: string }[];
  events?: { type: 'transfer'; afterTurn: number; target: string }[];
  reference: { intent: string | null; reason: string; outcome: string; followUps: RefFollowUp[]; summary: string };
}

function whoRole(who: string): 'agent' | 'caller' | 'other' {
  if (/^(agent|坐席)$/.test(who)) return 'agent';
  if (/^(caller|客户)$/.test(who)) return 'caller';
  return 'other';
}

function normalWhen(when: string, language: 'en' | 'zh'): string {
  return findTimeExpressions(when, language)[0]?.relative ?? when.toLowerCase();
}

interface Score {
  calls: number;
  reason: number;
  outcome: number;
  fuPredicted: number;
  fuReference: number;
  fuMatched: number;
  whoAgrees: number;
  rouge: number;
  rougeLead: number;
}

function leadBaseline(c: ScriptedCall): string {
  const callerIdx = c.turns.findIndex((t) => t.speaker === 'caller' && t.text.length > 12);
  const agent = c.turns.slice(callerIdx + 1).find((t) => t.speaker === 'agent');
  return [c.turns[callerIdx]?.text ?? '', agent?.text ?? ''].join(' ');
}

async function main(): Promise<void> {
  const details = process.argv.includes('--details');
  const doc = JSON.parse(readFileSync(join(repositoryRoot(), 'test/fixtures/assist/calls.json'), 'utf8')) as { calls: ScriptedCall[] };
  const models = { en: await IntentClassifier.load(defaultIntentSidecar()), zh: await IntentClassifier.load(defaultIntentZhSidecar()) };
  const scores: Record<string, Score> = {};
  const confusion = new Map<string, number>();
  let summariseMs = 0;
  for (const c of doc.calls) {
    const utterances: SummaryUtterance[] = [];
    for (const t of c.turns) {
      const intent = t.speaker === 'caller' ? await models[c.language].classify(t.text) : null;
      utterances.push({ speaker: t.speaker, text: t.text, language: c.language, intent });
    }
    const started = performance.now();
    const summary: CallSummary = summariseCall(utterances, {
      language: c.language,
      transferred: (c.events ?? []).some((e) => e.type === 'transfer'),
    });
    summariseMs += performance.now() - started;
    const s = (scores[c.split] ??= {
      calls: 0,
      reason: 0,
      outcome: 0,
      fuPredicted: 0,
      fuReference: 0,
      fuMatched: 0,
      whoAgrees: 0,
      rouge: 0,
      rougeLead: 0,
    });
    s.calls++;
    const reasonOk = summary.reason.intent === c.reference.intent;
    const outcomeOk = summary.outcome === c.reference.outcome;
    if (reasonOk) s.reason++;
    if (outcomeOk) s.outcome++;
    const key = `${c.reference.outcome}->${summary.outcome}`;
    confusion.set(`${c.split} ${key}`, (confusion.get(`${c.split} ${key}`) ?? 0) + 1);
    s.fuPredicted += summary.followUps.length;
    s.fuReference += c.reference.followUps.length;
    const unused = [...summary.followUps];
    for (const r of c.reference.followUps) {
      const i = unused.findIndex((p) => p.when === normalWhen(r.when, c.language));
      if (i < 0) continue;
      s.fuMatched++;
      if (unused[i]!.who.role === whoRole(r.who)) s.whoAgrees++;
      unused.splice(i, 1);
    }
    const rouge = rougeLF1(summary.text, c.reference.summary, c.language);
    s.rouge += rouge;
    s.rougeLead += rougeLF1(leadBaseline(c), c.reference.summary, c.language);
    if (details && c.split === 'tune') {
      console.log(
        `${c.id} ${c.language} reason ${reasonOk ? 'ok' : `MISS ${summary.reason.intent} (want ${c.reference.intent})`} outcome ${outcomeOk ? 'ok' : `MISS ${summary.outcome}/${summary.outcomeBasis} (want ${c.reference.outcome})`} followUps ${JSON.stringify(summary.followUps.map((f) => [f.who.name, f.when]))} rougeL ${rouge.toFixed(3)}`,
      );
      console.log(`   ${summary.text}`);
    }
  }
  await Promise.all([models.en.close(), models.zh.close()]);
  const pct = (n: number, d: number) => (d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(1)}% (${n}/${d})`);
  console.log('post-call summary on 20 scripted calls (test/fixtures/assist/calls.json), references written before the method');
  for (const split of ['tune', 'heldout']) {
    const s = scores[split];
    if (s === undefined) continue;
    console.log(`${split.padEnd(8)} calls ${s.calls}`);
    console.log(`  reason (intent label) accuracy   ${pct(s.reason, s.calls)}`);
    console.log(`  outcome accuracy                 ${pct(s.outcome, s.calls)}`);
    console.log(
      `  follow-up items recall           ${pct(s.fuMatched, s.fuReference)}   precision ${pct(s.fuMatched, s.fuPredicted)}   who agrees on matched ${pct(s.whoAgrees, s.fuMatched)}`,
    );
    console.log(
      `  ROUGE-L F1 of the text (mean)    ${(s.rouge / s.calls).toFixed(3)}   lead baseline ${(s.rougeLead / s.calls).toFixed(3)}`,
    );
    const conf = [...confusion].filter(([k]) => k.startsWith(`${split} `)).map(([k, n]) => `${k.slice(split.length + 1)}:${n}`);
    console.log(`  outcome reference->predicted     ${conf.sort().join(' ')}`);
  }
  console.log(`summariser CPU: ${(summariseMs / doc.calls.length).toFixed(2)} ms per call (intent inference excluded)`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
