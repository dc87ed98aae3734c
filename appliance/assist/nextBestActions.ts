/**
 * Next-best-action cards: what the agent should do now, given the caller's intent and emotion (for
 * example an upset caller who wants to close the account gets a retention offer). They are the
 * site's scripts (`/api/v1/routing/scripts`, the same ones alerts suggest) whose `alertKinds` name
 * `next_best_action`, matched on `intents`, `emotions` and `groups`; when none of the site's
 * matches, the built-in ones below apply, in the call's language.
 */
import type { SpeechLanguage } from '../asr/language.js';
import { scriptApplies, type BuiltinScript, type ScriptContext } from '../alerts/scripts.js';
import type { Script } from '../routing/schemas.js';

/** The script kind that makes a script a next-best-action card. */
export const NEXT_BEST_ACTION = 'next_best_action';

/** Emotion categories of the emotion model that read as an upset caller. */
const UPSET = ['angry', 'disgust', 'sad'];
const WORRIED = ['fearful', 'sad'];
const CANCELLATION = ['terminate_account'];
const CARD_AT_RISK = [
  'lost_or_stolen_card',
  'compromised_card',
  'lost_or_stolen_phone',
  'card_payment_not_recognised',
  'cash_withdrawal_not_recognised',
];
const MONEY_WRONG = [
  'transaction_charged_twice',
  'request_refund',
  'Refund_not_showing_up',
  'extra_charge_on_statement',
  'wrong_amount_of_cash_received',
];

const when = (intents: string[], emotions: string[]): Script['when'] => ({ alertKinds: [NEXT_BEST_ACTION], intents, emotions });

export const BUILTIN_ACTIONS: readonly BuiltinScript[] = [
  {
    id: 'builtin-retention-offer',
    language: 'en',
    title: 'Retention offer: an upset customer wants to close the account',
    when: when(CANCELLATION, UPSET),
    steps: [
      'Acknowledge the frustration before anything else; do not start with the closure process.',
      'Ask what made them decide to leave, and fix that problem now if you can.',
      'Offer the retention package your team may give (fee waiver, upgrade, goodwill credit).',
      'If they still want to leave, close the account without friction and confirm it in writing.',
    ],
  },
  {
    id: 'builtin-secure-card',
    language: 'en',
    title: 'Worried caller, card at risk: block it first',
    when: when(CARD_AT_RISK, WORRIED),
    steps: [
      'Tell the caller you will block the card right now, and do it before asking anything else.',
      'Reassure them: disputed payments made after the loss are refunded once checked.',
      'Go through the recent payments together and mark the ones they do not recognise.',
      'Order the replacement card and say when it will arrive.',
    ],
  },
  {
    id: 'builtin-money-wrong-angry',
    language: 'en',
    title: 'Angry about money taken: fix first, explain after',
    when: when(MONEY_WRONG, ['angry', 'disgust']),
    steps: [
      'Confirm the amount and date with the caller and open the refund or dispute while they are on the line.',
      'Give the reference number and the date the money will be back.',
      'Only then explain why it happened, briefly, without blaming the caller.',
    ],
  },
  {
    id: 'builtin-retention-offer-zh',
    language: 'zh',
    title: '挽留方案：客户情绪不满，想要销户',
    when: when(CANCELLATION, UPSET),
    steps: [
      '先回应客户的不满，不要一开始就讲销户流程。',
      '询问客户想离开的原因，能当场解决的就当场解决。',
      '提供团队可给的挽留方案（免手续费、升级服务、补偿金）。',
      '如果客户仍要离开，顺畅办理销户并书面确认。',
    ],
  },
  {
    id: 'builtin-secure-card-zh',
    language: 'zh',
    title: '客户担心，卡有风险：先冻结卡片',
    when: when(CARD_AT_RISK, WORRIED),
    steps: [
      '告诉客户您现在就冻结卡片，并在询问其他问题之前先完成冻结。',
      '安抚客户：丢失后产生的争议交易核实后会退还。',
      '和客户一起核对最近的交易，标记不认识的交易。',
      '为客户补办新卡，并告知到达时间。',
    ],
  },
  {
    id: 'builtin-money-wrong-angry-zh',
    language: 'zh',
    title: '客户为扣款生气：先解决，再解释',
    when: when(MONEY_WRONG, ['angry', 'disgust']),
    steps: ['与客户确认金额和日期，在通话中就发起退款或争议处理。', '告知受理编号和款项退回的日期。', '之后再简短说明原因，不要责怪客户。'],
  },
];

/**
 * The next-best actions that apply now: the site's matching scripts, most specific first (naming
 * intent and emotion beats naming one of them beats a general one), else the built-in ones in the
 * call's language (absent: English).
 */
export function selectActions(scripts: readonly Script[], ctx: Omit<ScriptContext, 'kind'>, limit = 2): Script[] {
  const c: ScriptContext = { ...ctx, kind: NEXT_BEST_ACTION };
  const specificity = (s: Script): number =>
    (s.when.intents !== undefined ? 2 : 0) + (s.when.emotions !== undefined ? 2 : 0) + (s.when.groups !== undefined ? 1 : 0);
  const site = scripts.filter((s) => scriptApplies(s, c)).sort((a, b) => specificity(b) - specificity(a));
  if (site.length > 0) return site.slice(0, limit);
  const language: SpeechLanguage = ctx.language ?? 'en';
  return BUILTIN_ACTIONS.filter((s) => s.language === language && scriptApplies(s, c)).slice(0, limit);
}
