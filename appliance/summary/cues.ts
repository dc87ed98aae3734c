/**
 * Cue phrases the post-call summary reads, per language: questions and requests (the caller's),
 * commitments (the agent's "I'll", "I have", "we will", "我会", "已经帮您"), transfers and
 * abandonment. Each function reads one sentence; negated commitments ("I can't", "I won't",
 * "无法") are not commitments.
 */
import type { SpeechLanguage } from '../asr/language.js';

/** A commitment: something done during the call, or promised for later. */
export type CommitmentKind = 'done' | 'promised';

/** Who carries out a commitment, as said: the agent, the caller, or a named team or party. */
export interface Actor {
  readonly role: 'agent' | 'caller' | 'other';
  /** Words naming the party ("disputes team", "engineer"); the role for agent and caller. */
  readonly name: string;
}

/** Sentences of an utterance (the ASR's finals may hold several). */
export function sentences(text: string, language: SpeechLanguage): string[] {
  const parts = language === 'zh' ? text.split(/(?<=[。！？!?；;])/) : text.split(/(?<=[.!?])\s+/);
  return parts.map((s) => s.trim()).filter((s) => s.length > 0);
}

const EN_QUESTION_START =
  /^(?:(?:and|so|but|okay|ok|hi|hello)[, ]+)?(?:why|how|what|when|where|which|who|can|could|would|will|is|are|do|does|did|should|have|has|am)\b/i;
const EN_REQUEST = /\b(?:i want to|i'd like to|i would like to|i need (?:to|you to|a|my)|please (?:can|could)|can you|could you)\b/i;
const ZH_QUESTION = /[？?]|吗[。！!]?$|呢[。！!]?$|怎么|为什么|多久|什么时候|能不能|可不可以|是不是|有没有|如何|哪/;
const ZH_REQUEST = /我(?:想|要|需要)|请(?:帮|你|您)|帮我/;

/** True when a caller's sentence asks something or requests something. */
export function isQuestionOrRequest(sentence: string, language: SpeechLanguage): boolean {
  if (language === 'zh') return ZH_QUESTION.test(sentence) || ZH_REQUEST.test(sentence);
  return sentence.trimEnd().endsWith('?') || EN_QUESTION_START.test(sentence) || EN_REQUEST.test(sentence);
}

// "I have cancelled", "I've ordered", "I've already ...", "I have just ..."; "we have ..."; "has been".
const EN_DONE =
  /\b(?:i|we)(?:'ve| have)\s+(?:already\s+|just\s+|now\s+|also\s+)?(?!been\b|got\b|a\b|no\b|to\b)([a-z]+ed|sent|put|set|made|done|taken|given|frozen|run|written)\b/i;
const EN_DONE_PASSIVE = /\b(?:has|have) (?:now )?been\s+([a-z]+ed|sent|set|made|done|frozen)\b/i;
// "I'll ...", "I will ...", "we will ...", "I'm going to ...", "the disputes team will ...", "they will ...".
const EN_PROMISE =
  /\b(i|we|they|someone|somebody|(?:the|our|a|an)\s+(?:[a-z]+\s+){0,2}(?:team|engineer|technician|department|courier|specialist|manager|colleague|supervisor))\s*(?:'ll|\s+will|\s+are going to|'m going to|\s+am going to|\s+shall)\s+(?!not\b|be able\b)([a-z]+)/i;
const EN_NEGATED = /\b(?:can't|cannot|can not|won't|will not|unable to|not able to|don't|do not)\b/i;
// Verbs after "will" that are not the agent's actions: "it will arrive", "that will take".
const EN_NOT_ACTION = /^(?:be|have|take|need|arrive|appear|show|happen|cost|work|help|want|see)$/i;
// The agent telling the caller to act: "call us back", "you can change it", "contact us".
const EN_CALLER_ACTION =
  /\b(?:call us back|ring us back|give us a call|contact us|you (?:can|could|should|need to|will need to)\s+[a-z]+|just (?:do|wait|call))\b/i;

const ZH_ACTION_VERB = '(?:办理|提交|激活|挂失|冻结|取消|注销|开通|关闭|退回|修改|重置|解除|申请|登记|寄出|补办|处理|预约|安排|记录|反馈)';
// Done by the agent: "我已经…提交", "已经帮您激活", "帮您把卡片激活了"; not "商户的退款已经提交" (someone else).
const ZH_DONE = new RegExp(
  `(?:我|我们)(?:这边)?(?:已经|已)[\\u4e00-\\u9fff]{0,8}?${ZH_ACTION_VERB}|(?:已经|已)(?:帮您|为您|给您|替您)[\\u4e00-\\u9fff]{0,8}?${ZH_ACTION_VERB}|(?:帮您|为您)(?:把[\\u4e00-\\u9fff]{0,6})?${ZH_ACTION_VERB}了`,
);
const ZH_PROMISE =
  /(我|我们|工作人员|专员|工程师|师傅|同事|相关部门|[\u4e00-\u9fff]{1,4}(?:部门|中心|团队|专员))?(?:会|将|稍后|尽快)(?:在[^，。]{0,12})?(?:给您|为您|帮您|跟您|与您|联系|回电|回复|处理|退回|寄|上门|通知|核实|跟进|反馈|安排)/;
const ZH_NEGATED = /无法|不能|没办法|不会|做不到|不可以/;
const ZH_CALLER_ACTION = /您(?:可以|再|需要|请)(?:拨打|来电|致电|打|联系|到|去|在)/;

export interface Commitment {
  readonly kind: CommitmentKind;
  readonly actor: Actor;
}

function enActor(subject: string): Actor {
  const s = subject.toLowerCase().trim();
  if (s === 'i' || s === 'we') return { role: 'agent', name: 'agent' };
  if (s === 'they' || s === 'someone' || s === 'somebody') return { role: 'other', name: 'team' };
  return { role: 'other', name: s.replace(/^(?:the|our|a|an)\s+/, '') };
}

function zhActor(subject: string | undefined): Actor {
  if (subject === undefined || subject === '我' || subject === '我们') return { role: 'agent', name: '坐席' };
  return { role: 'other', name: subject };
}

/**
 * The commitment an agent's sentence makes, if any: something done ("I have cancelled the card",
 * "已经帮您激活"), promised by the agent or a named party ("I'll call you back", "the disputes team
 * will contact you", "我会给您回电"), or asked of the caller ("call us back if ..."; promised,
 * actor caller). Negated sentences make none.
 */
export function commitmentOf(sentence: string, language: SpeechLanguage): Commitment | null {
  if (language === 'zh') {
    if (ZH_NEGATED.test(sentence)) return null;
    if (ZH_CALLER_ACTION.test(sentence)) return { kind: 'promised', actor: { role: 'caller', name: '客户' } };
    const p = ZH_PROMISE.exec(sentence);
    if (p !== null && !/^(?:您|你)/.test(sentence.slice(Math.max(0, p.index - 1), p.index + 1)))
      return { kind: 'promised', actor: zhActor(p[1]) };
    if (ZH_DONE.test(sentence)) return { kind: 'done', actor: { role: 'agent', name: '坐席' } };
    return null;
  }
  // The agent's own action or promise said first wins ("I have reset it, so you can use the card");
  // the caller's step said first is the next step ("call us back and we will investigate").
  const callerAt = sentence.search(EN_CALLER_ACTION);
  const agentAt = Math.min(...[EN_DONE, EN_DONE_PASSIVE, EN_PROMISE].map((re) => sentence.search(re)).filter((i) => i >= 0), Infinity);
  if (callerAt >= 0 && callerAt < agentAt) return { kind: 'promised', actor: { role: 'caller', name: 'caller' } };
  if (EN_NEGATED.test(sentence) && !EN_DONE.test(sentence)) return null;
  const p = EN_PROMISE.exec(sentence);
  if (p !== null && !EN_NOT_ACTION.test(p[2]!) && !/^(?:transfer|put|connect|pass)$/i.test(p[2]!))
    return { kind: 'promised', actor: enActor(p[1]!) };
  if (EN_DONE.test(sentence) || EN_DONE_PASSIVE.test(sentence)) return { kind: 'done', actor: { role: 'agent', name: 'agent' } };
  return null;
}

const EN_TRANSFER =
  /\b(?:transferring you|transfer you|putting you through|put you through|connecting you|pass you (?:over|through)|I'll transfer|I'm transferring)\b/i;
const ZH_TRANSFER = /(?:为您|给您|帮您)?转接|转到[\u4e00-\u9fff]{0,8}(?:部门|专员|团队|中心)|转给/;

/** True when an agent's sentence hands the caller to someone else. */
export function isTransferCue(sentence: string, language: SpeechLanguage): boolean {
  return (language === 'zh' ? ZH_TRANSFER : EN_TRANSFER).test(sentence);
}

const EN_ABANDON =
  /\b(?:forget it|never mind|nevermind|sort it out myself|waste of (?:my )?time|i'll go elsewhere|i'm done|i want to complain|make a complaint|this is ridiculous|useless)\b/i;
const ZH_ABANDON = /算了|不跟你说了|不说了|我要投诉|没用|浪费时间|不用了/;

/** True when a caller's sentence gives up on the call or turns it into a complaint. */
export function isAbandonCue(sentence: string, language: SpeechLanguage): boolean {
  return (language === 'zh' ? ZH_ABANDON : EN_ABANDON).test(sentence);
}

const EN_THANKS = /\b(?:thanks|thank you|cheers|brilliant|perfect|great|that works|that's helpful|that's all)\b/i;
const ZH_THANKS = /谢谢|感谢|好的|明白了|行/;

/** True when a caller's sentence sounds satisfied ("thanks", "that works", "谢谢"). */
export function isSatisfiedCue(sentence: string, language: SpeechLanguage): boolean {
  return (language === 'zh' ? ZH_THANKS : EN_THANKS).test(sentence);
}
