/**
 * Complaint-risk phrases: what a caller says that tells a supervisor the call may turn into a
 * complaint (asking for a manager, threatening a lawyer or the press), one list per speech language,
 * picked by the language of the final. Pure: text in, categories out.
 *
 * Matching: Mandarin text (no word spaces) is compared as a string of letters and numerals with
 * punctuation and spaces removed, after NFKC (full-width → half-width); English text word by word
 * (so "sue" does not match inside "issue"). A phrase is a fixed expression, not a single word where
 * that word is routine: 经理 alone is in 客户经理 (account manager), so the list has 找经理,
 * 你们经理 and the like. `refund` supports the others: a refund demand alone is routine business,
 * so it never raises an alert by itself (see complaintRisk).
 */
import type { SpeechLanguage } from '../asr/language.js';

export type ComplaintCategory = 'escalation' | 'complaint' | 'legal' | 'exposure' | 'refund';

export const COMPLAINT_CATEGORIES: readonly ComplaintCategory[] = ['escalation', 'complaint', 'legal', 'exposure', 'refund'];

export const COMPLAINT_PHRASES: Readonly<Record<SpeechLanguage, Readonly<Record<ComplaintCategory, readonly string[]>>>> = {
  zh: {
    escalation: [
      '你们经理',
      '找经理',
      '叫经理',
      '转经理',
      '经理来',
      '你们主管',
      '找主管',
      '叫主管',
      '转主管',
      '你们领导',
      '找领导',
      '叫领导',
      '找上级',
      '你们上级',
      '你们负责人',
      '找负责人',
      '你们老板',
    ],
    complaint: ['投诉', '举报', '差评', '服务太差', '太差劲了'],
    legal: [
      '律师',
      '起诉',
      '法院',
      '打官司',
      '告你们',
      '消协',
      '消费者协会',
      '12315',
      '一二三一五',
      '幺二三幺五',
      '银保监',
      '金融监管',
      '监管部门',
    ],
    exposure: ['曝光', '媒体', '记者', '电视台', '发到网上', '发微博', '网上说'],
    refund: ['退款', '退钱', '把钱退', '退费'],
  },
  en: {
    escalation: [
      'speak to your manager',
      'speak to a manager',
      'talk to your manager',
      'talk to a manager',
      'speak to a supervisor',
      'speak to your supervisor',
      'talk to a supervisor',
      'talk to your supervisor',
      'someone in charge',
      'escalate this',
    ],
    complaint: ['make a complaint', 'file a complaint', 'formal complaint', 'raise a complaint', 'lodge a complaint'],
    legal: ['lawyer', 'lawyers', 'solicitor', 'attorney', 'sue you', 'take you to court', 'legal action', 'ombudsman'],
    exposure: ['social media', 'the press', 'journalist', 'newspaper', 'post this online', 'tell everyone online'],
    refund: ['refund', 'my money back'],
  },
};

function zhForm(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

function enForm(text: string): string {
  const words =
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}']+/gu) ?? [];
  return ` ${words.map((w) => w.replace(/'/g, '')).join(' ')} `;
}

/** Prepared lists: each phrase in the form the text is compared in. */
const PREPARED: Readonly<Record<SpeechLanguage, readonly { category: ComplaintCategory; form: string }[]>> = {
  zh: COMPLAINT_CATEGORIES.flatMap((category) => COMPLAINT_PHRASES.zh[category].map((p) => ({ category, form: zhForm(p) }))),
  en: COMPLAINT_CATEGORIES.flatMap((category) => COMPLAINT_PHRASES.en[category].map((p) => ({ category, form: enForm(p) }))),
};

/** The categories whose phrases occur in `text` (in COMPLAINT_CATEGORIES order), for the final's language. */
export function complaintCategories(text: string, language: SpeechLanguage = 'en'): ComplaintCategory[] {
  const form = language === 'zh' ? zhForm(text) : enForm(text);
  const found = new Set<ComplaintCategory>();
  for (const p of PREPARED[language]) if (form.includes(p.form)) found.add(p.category);
  return COMPLAINT_CATEGORIES.filter((c) => found.has(c));
}

/**
 * Whether the categories of one utterance make a complaint-risk alert, and how severe: a legal or
 * press threat is critical; asking for a manager or to complain is a warning; a refund demand alone
 * is none.
 */
export function complaintRisk(categories: readonly ComplaintCategory[]): 'warning' | 'critical' | null {
  if (categories.includes('legal') || categories.includes('exposure')) return 'critical';
  if (categories.includes('escalation') || categories.includes('complaint')) return 'warning';
  return null;
}
