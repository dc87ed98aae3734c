/**
 * De-escalation scripts suggested with caller alerts. Sites add their own through the routing API
 * (`/api/v1/routing/scripts`); the built-in ones below apply when none of the site's scripts match,
 * in the language of the call (English or Mandarin: the agent reads them while on the call).
 */
import type { SpeechLanguage } from '../asr/language.js';
import type { Script } from '../routing/schemas.js';

/** A built-in script and the call language it is written for. */
export type BuiltinScript = Script & { readonly language: SpeechLanguage };

export const BUILTIN_SCRIPTS: readonly BuiltinScript[] = [
  {
    id: 'builtin-angry',
    language: 'en',
    title: 'Angry caller',
    when: { alertKinds: ['caller_angry'] },
    steps: [
      'Let the caller finish; do not interrupt or correct them yet.',
      'Acknowledge the feeling and the problem in your own words ("I can hear this has been really frustrating, and the card still has not arrived").',
      'Apologise for the experience, without blaming a colleague or a system.',
      'Take ownership: say what you will do now, and do it while they are on the line where you can.',
      'Agree the next step and a time, and confirm how they will hear back.',
    ],
  },
  {
    id: 'builtin-escalating',
    language: 'en',
    title: 'Caller getting more upset',
    when: { alertKinds: ['caller_escalating'] },
    steps: [
      'Slow down and lower your voice a little; keep sentences short.',
      'Summarise what the caller has told you so far and ask if you have it right.',
      'Offer one concrete option rather than a list of policies.',
      'If the caller asks for a supervisor, say you will get one and do not argue.',
    ],
  },
  {
    id: 'builtin-complaint-risk',
    language: 'en',
    title: 'Caller talking about a complaint, a manager, a lawyer or the press',
    when: { alertKinds: ['caller_complaint_risk'] },
    steps: [
      'Do not argue with the threat or try to talk the caller out of it; acknowledge it calmly.',
      'Tell the caller they have every right to complain and that you will note it on the case now.',
      'Ask what outcome they need, and say what you can do about it on this call.',
      'If they still want a manager, offer the transfer or a callback within an agreed time.',
    ],
  },
  {
    id: 'builtin-angry-zh',
    language: 'zh',
    title: '来电者愤怒',
    when: { alertKinds: ['caller_angry'] },
    steps: [
      '让客户把话说完，先不要打断或纠正。',
      '用自己的话确认客户的感受和问题（“我能理解这件事让您非常着急，卡到现在还没收到”）。',
      '为给客户带来的不便致歉，不要把责任推给同事或系统。',
      '主动承担：告诉客户您现在会做什么，能在通话中完成的就当场办理。',
      '约定下一步和时间，并确认客户将如何得到回复。',
    ],
  },
  {
    id: 'builtin-escalating-zh',
    language: 'zh',
    title: '来电者情绪升级',
    when: { alertKinds: ['caller_escalating'] },
    steps: [
      '放慢语速，音量稍微放低，句子简短。',
      '复述客户到目前为止说的内容，并确认是否理解正确。',
      '给出一个具体的解决办法，而不是罗列规定。',
      '如果客户要求找主管，答应为其转接，不要争辩。',
    ],
  },
  {
    id: 'builtin-complaint-risk-zh',
    language: 'zh',
    title: '来电者提到投诉、经理、律师或曝光',
    when: { alertKinds: ['caller_complaint_risk'] },
    steps: [
      '不要反驳客户的说法，也不要劝客户放弃，平静地表示已经听到。',
      '告诉客户他有权投诉，您现在就会把情况记录在工单里。',
      '询问客户希望得到什么结果，并说明在这通电话里您能做什么。',
      '如果客户仍要求找经理，提供转接，或约定时间回电。',
    ],
  },
];

/** What a script's condition is checked against. */
export interface ScriptContext {
  kind: string;
  groupId: string | null;
  intent: string | null;
  /** The caller's latest emotion category (absent or null: not known). */
  emotion?: string | null | undefined;
  language?: SpeechLanguage | undefined;
}

/** Whether a script's condition holds: its kind, and each of groups, intents and emotions it names. */
export function scriptApplies(s: Script, ctx: ScriptContext): boolean {
  const has = (list: readonly string[] | undefined, value: string | null | undefined): boolean =>
    list === undefined || (value !== null && value !== undefined && list.includes(value));
  return (
    s.when.alertKinds.includes(ctx.kind) &&
    has(s.when.groups, ctx.groupId) &&
    has(s.when.intents, ctx.intent) &&
    has(s.when.emotions, ctx.emotion)
  );
}

/**
 * The script for an alert: the most specific matching site script (one naming the intent beats one
 * naming the group beats a general one; naming the emotion counts as naming the intent), else the built-in one for the alert kind in the call's
 * language (absent: English).
 */
export function selectScript(scripts: readonly Script[], ctx: ScriptContext): Script | null {
  let best: { s: Script; score: number } | null = null;
  for (const s of scripts) {
    if (!scriptApplies(s, ctx)) continue;
    const score = (s.when.intents !== undefined ? 2 : 0) + (s.when.emotions !== undefined ? 2 : 0) + (s.when.groups !== undefined ? 1 : 0);
    if (best === null || score > best.score) best = { s, score };
  }
  if (best !== null) return best.s;
  const language = ctx.language ?? 'en';
  return BUILTIN_SCRIPTS.find((s) => s.language === language && s.when.alertKinds.includes(ctx.kind)) ?? null;
}
