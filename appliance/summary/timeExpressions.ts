/**
 * Time expressions in a transcript sentence ("tomorrow by 5pm", "within 10 working days",
 * "明天下午五点前", "三个工作日内"), found by pattern and described relative to the call
 * ("tomorrow by 17:00", "within 10 working days"). No calendar arithmetic: the description is what
 * the agent promised, in a normal form that a person (or a comparison) can read.
 */
import type { SpeechLanguage } from '../asr/language.js';

export interface TimeExpression {
  /** The words as said. */
  readonly text: string;
  /** Normal form relative to the call, e.g. "tomorrow by 17:00", "within 3 working days". */
  readonly relative: string;
}

const EN_NUMBERS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  fourteen: 14,
  fifteen: 15,
  twenty: 20,
  thirty: 30,
  'twenty-four': 24,
  'forty-eight': 48,
  'seventy-two': 72,
};
const EN_NUMBER = `(?:\\d{1,3}|${Object.keys(EN_NUMBERS)
  .sort((a, b) => b.length - a.length)
  .join('|')})`;
const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
const UNIT = '(?:working days?|business days?|days?|hours?|weeks?|minutes?)';
const CLOCK = '(?:\\d{1,2}(?::\\d{2})?\\s?(?:am|pm|a\\.m\\.|p\\.m\\.)|noon|midday)';

function enNumber(word: string): number {
  const w = word.toLowerCase();
  return /^\d+$/.test(w) ? Number(w) : (EN_NUMBERS[w] ?? NaN);
}

function clock24(text: string): string {
  const t = text.toLowerCase().replace(/\./g, '').replace(/\s/g, '');
  if (t === 'noon' || t === 'midday') return '12:00';
  const m = /^(\d{1,2})(?::(\d{2}))?(am|pm)$/.exec(t);
  if (m === null) return text;
  let h = Number(m[1]) % 12;
  if (m[3] === 'pm') h += 12;
  return `${String(h).padStart(2, '0')}:${m[2] ?? '00'}`;
}

function unitName(unit: string, n: number): string {
  const base = unit
    .toLowerCase()
    .replace(/s$/, '')
    .replace(/^business day$/, 'working day');
  return n === 1 ? base : `${base}s`;
}

interface Pattern {
  readonly re: RegExp;
  readonly describe: (m: RegExpExecArray) => string;
}

const EN_PATTERNS: readonly Pattern[] = [
  {
    re: new RegExp(`\\b(?:within|in)\\s+(?:the\\s+next\\s+)?(${EN_NUMBER})\\s+(?:to|-|or)\\s+(${EN_NUMBER})\\s+(${UNIT})`, 'gi'),
    describe: (m) => `within ${enNumber(m[1]!)}-${enNumber(m[2]!)} ${unitName(m[3]!, 2)}`,
  },
  {
    re: new RegExp(`\\b(within|in)\\s+(?:the\\s+next\\s+)?(${EN_NUMBER}|half an)\\s+(${UNIT})`, 'gi'),
    describe: (m) => {
      const n = m[2]!.toLowerCase() === 'half an' ? 0.5 : enNumber(m[2]!);
      return `${m[1]!.toLowerCase() === 'within' ? 'within' : 'in'} ${n} ${unitName(m[3]!, n)}`;
    },
  },
  {
    re: new RegExp(
      `\\b(?:(today|tomorrow|tonight)\\s+)?(?:(on\\s+)?(${DAYS.join('|')})\\s+)?between\\s+(${CLOCK})\\s+and\\s+(${CLOCK})`,
      'gi',
    ),
    describe: (m) => `${[m[1]?.toLowerCase(), m[3]?.toLowerCase()].filter(Boolean).join(' ')} ${clock24(m[4]!)}-${clock24(m[5]!)}`.trim(),
  },
  {
    re: new RegExp(
      `\\b(today|tomorrow|tonight|later today)?\\s*(?:(morning|afternoon|evening)\\s+)?\\b(by|before|at|after)\\s+(${CLOCK})(?:\\s+(today|tomorrow))?`,
      'gi',
    ),
    describe: (m) => {
      const day = (m[1] ?? m[5] ?? '').toLowerCase().replace('later today', 'today');
      return `${day} ${m[3]!.toLowerCase()} ${clock24(m[4]!)}`.trim();
    },
  },
  {
    re: new RegExp(`\\b(by|on|before|next|this|until)\\s+(${DAYS.join('|')})\\b`, 'gi'),
    describe: (m) => `${m[1]!.toLowerCase() === 'before' ? 'by' : m[1]!.toLowerCase()} ${m[2]!.toLowerCase()}`,
  },
  {
    re: /\bby\s+the\s+end\s+of\s+(?:the\s+)?(day|week|month)\b|\bend\s+of\s+(?:the\s+)?(day|week|month)\b/gi,
    describe: (m) => `by end of ${(m[1] ?? m[2]!).toLowerCase()}`,
  },
  {
    re: /\b(tomorrow|today|tonight|later today|this afternoon|this evening|this morning|next week|next month)\b(?:\s+(morning|afternoon|evening))?/gi,
    describe: (m) => `${m[1]!.toLowerCase()}${m[2] ? ` ${m[2].toLowerCase()}` : ''}`,
  },
];

const ZH_DIGITS: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const ZH_NUM = '[零〇一二两三四五六七八九十百\\d]+';
const ZH_WEEKDAY: Record<string, string> = {
  一: 'monday',
  二: 'tuesday',
  三: 'wednesday',
  四: 'thursday',
  五: 'friday',
  六: 'saturday',
  日: 'sunday',
  天: 'sunday',
};

/** 十五 -> 15, 二十四 -> 24, 48 -> 48 (numbers below 1000). */
export function zhNumber(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  let total = 0;
  let digit = 0;
  for (const ch of text) {
    if (ch === '百') {
      total += (digit || 1) * 100;
      digit = 0;
    } else if (ch === '十') {
      total += (digit || 1) * 10;
      digit = 0;
    } else if (ch in ZH_DIGITS) digit = ZH_DIGITS[ch]!;
    else return NaN;
  }
  return total + digit;
}

const ZH_DAY: Record<string, string> = {
  今天: 'today',
  今晚: 'tonight',
  明天: 'tomorrow',
  后天: 'in 2 days',
  下周: 'next week',
  本周: 'this week',
  这周: 'this week',
  月底: 'end of month',
};
const ZH_PART: Record<string, number> = { 上午: 0, 早上: 0, 中午: 12, 下午: 12, 晚上: 12 };
const ZH_UNIT: Record<string, string> = { 工作日: 'working day', 天: 'day', 小时: 'hour', 周: 'week', 星期: 'week', 分钟: 'minute' };

const ZH_PATTERNS: readonly Pattern[] = [
  {
    re: new RegExp(`(今天|今晚|明天|后天)?(上午|早上|中午|下午|晚上)?(${ZH_NUM})点(半)?(之前|以前|前|左右)?`, 'g'),
    describe: (m) => {
      const day = m[1] !== undefined ? ZH_DAY[m[1]]! : '';
      let h = zhNumber(m[3]!);
      if (m[2] !== undefined && h < 12) h += ZH_PART[m[2]]!;
      const time = `${String(h).padStart(2, '0')}:${m[4] !== undefined ? '30' : '00'}`;
      const by = m[5] !== undefined && m[5] !== '左右' ? 'by' : 'at';
      return `${day} ${by} ${time}`.trim();
    },
  },
  {
    re: new RegExp(`(${ZH_NUM})(?:到(${ZH_NUM}))?个?(工作日|天|小时|周|星期|分钟)(之内|以内|内)`, 'g'),
    describe: (m) => {
      const n = zhNumber(m[1]!);
      const unit = ZH_UNIT[m[3]!]!;
      const range = m[2] !== undefined ? `${n}-${zhNumber(m[2])}` : String(n);
      return `within ${range} ${m[2] !== undefined || n !== 1 ? `${unit}s` : unit}`;
    },
  },
  {
    re: /(下周|这周|本周|下个?星期|这个?星期|下个?礼拜)?(?:周|星期|礼拜)([一二三四五六日天])(之前|以前|前)?/g,
    describe: (m) => `${m[3] !== undefined ? 'by' : m[1]?.startsWith('下') ? 'next' : 'on'} ${ZH_WEEKDAY[m[2]!]!}`,
  },
  {
    re: /(今天|今晚|明天|后天|下周|本周|这周|月底)(之前|以前|前|内|之内)?/g,
    describe: (m) => `${m[2] !== undefined ? 'by ' : ''}${ZH_DAY[m[1]!]!}`,
  },
];

/** Every time expression in `text`, in order; overlapping matches keep the earliest, longest one. */
export function findTimeExpressions(text: string, language: SpeechLanguage = 'en'): TimeExpression[] {
  const found: { start: number; end: number; expr: TimeExpression }[] = [];
  for (const p of language === 'zh' ? ZH_PATTERNS : EN_PATTERNS) {
    p.re.lastIndex = 0;
    for (let m = p.re.exec(text); m !== null; m = p.re.exec(text)) {
      const said = m[0].trim();
      if (said === '') {
        p.re.lastIndex++;
        continue;
      }
      const start = m.index + (m[0].length - m[0].trimStart().length);
      const end = start + said.length;
      if (found.some((f) => start < f.end && end > f.start)) continue;
      const relative = p.describe(m).replace(/\s+/g, ' ').trim();
      if (relative.includes('NaN')) continue;
      found.push({ start, end, expr: { text: said, relative } });
    }
  }
  return found.sort((a, b) => a.start - b.start).map((f) => f.expr);
}
