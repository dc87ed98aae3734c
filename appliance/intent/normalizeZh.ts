/**
 * Text normalisation for Chinese (Mandarin) intent text, shared by training and the runtime.
 *
 * Typed text ("我要退５０元！") and ASR transcripts ("我要退五十元") are mapped to the same form:
 * NFKC (full-width letters, digits and punctuation become half-width), Latin letters lower-cased,
 * Arabic numbers written as Chinese numerals the way they are read (50 → 五十, 0042 → 零零四二),
 * and every run of punctuation or white space turned into one space: the spaces separate the
 * segments inside which the featurizer takes character n-grams (Chinese has no word spaces).
 */

const DIGITS = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'] as const;
const UNITS = ['', '十', '百', '千'] as const;

/** A number 1..9999 read digit group by digit group, with 零 for a gap between non-zero digits. */
function readSection(n: number): string {
  let out = '';
  let gap = false;
  for (let p = 3; p >= 0; p--) {
    const d = Math.floor(n / 10 ** p) % 10;
    if (d === 0) {
      gap = out.length > 0;
      continue;
    }
    if (gap) out += '零';
    gap = false;
    out += DIGITS[d]! + UNITS[p]!;
  }
  return out;
}

/** Spell a non-negative integer below 10^8 as spoken Mandarin: 15 → 十五, 105 → 一百零五, 20300 → 二万零三百. */
export function numberToChinese(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= 1e8) throw new RangeError(`numberToChinese: ${n}`);
  if (n === 0) return '零';
  if (n >= 10 && n < 20) return `十${n === 10 ? '' : DIGITS[n % 10]!}`;
  const wan = Math.floor(n / 1e4);
  const rest = n % 1e4;
  if (wan === 0) return readSection(rest);
  return `${readSection(wan)}万${rest === 0 ? '' : `${rest < 1000 ? '零' : ''}${readSection(rest)}`}`;
}

function readDigits(digits: string): string {
  // Phone, card and order numbers are read digit by digit; so are numbers with a leading zero.
  if (digits.length > 5 || (digits.length > 1 && digits.startsWith('0'))) return [...digits].map((d) => DIGITS[Number(d)]!).join('');
  return numberToChinese(Number(digits));
}

/** Normalise one Chinese utterance; the result is what the featurizer tokenises (segments separated by spaces). */
export function normalizeChineseText(input: string): string {
  let t = input.normalize('NFKC').toLowerCase();
  t = t.replace(/(\d[\d,]*(?:\.\d+)?)\s*%/g, '百分之$1');
  // Decimals: 2.5 → 二点五; integers as read; thousands separators dropped first.
  t = t.replace(/\d{1,3}(?:,\d{3})+/g, (m) => m.replace(/,/g, ''));
  t = t.replace(/(\d+)\.(\d+)/g, (_m, a: string, b: string) => `${readDigits(a)}点${[...b].map((d) => DIGITS[Number(d)]!).join('')}`);
  t = t.replace(/\d+/g, (m) => readDigits(m));
  // Keep letters and numerals of every script; everything else (punctuation, symbols, spaces) separates segments.
  t = t.replace(/[^\p{L}\p{N}]+/gu, ' ');
  return t.trim();
}
