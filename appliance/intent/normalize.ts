/**
 * Text normalisation shared by intent training and the runtime.
 *
 * ASR transcripts arrive upper-case, unpunctuated, with numbers spoken as words ("TWO WEEKS"),
 * while the training text is typed ("2 weeks?", "$1"). Both are mapped to the same form:
 * lower-case ASCII words separated by single spaces, digits spelled out, currency symbols as words,
 * apostrophes dropped ("don't" -> "dont") and every other punctuation mark turned into a space.
 */

const ONES = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
] as const;
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'] as const;

const CURRENCY_WORDS: Record<string, string> = { $: 'dollars', '£': 'pounds', '€': 'euros', '¥': 'yen' };

/** Spell a non-negative integer below one billion the way a speaker (and so the ASR) says it. */
export function numberToWords(n: number): string {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`numberToWords: ${n}`);
  if (n < 20) return ONES[n]!;
  if (n < 100) return n % 10 === 0 ? TENS[Math.floor(n / 10)]! : `${TENS[Math.floor(n / 10)]!} ${ONES[n % 10]!}`;
  if (n < 1000) {
    const rest = n % 100;
    return `${ONES[Math.floor(n / 100)]!} hundred${rest === 0 ? '' : ` ${numberToWords(rest)}`}`;
  }
  if (n < 1_000_000) {
    const rest = n % 1000;
    return `${numberToWords(Math.floor(n / 1000))} thousand${rest === 0 ? '' : ` ${numberToWords(rest)}`}`;
  }
  if (n < 1_000_000_000) {
    const rest = n % 1_000_000;
    return `${numberToWords(Math.floor(n / 1_000_000))} million${rest === 0 ? '' : ` ${numberToWords(rest)}`}`;
  }
  throw new RangeError(`numberToWords: ${n}`);
}

function spellDigits(digits: string): string {
  // Long digit strings (card numbers, codes) are read digit by digit; "0042" too.
  if (digits.length > 9 || (digits.length > 1 && digits.startsWith('0'))) {
    return [...digits].map((d) => ONES[Number(d)]!).join(' ');
  }
  return numberToWords(Number(digits));
}

function spellNumber(text: string): string {
  const [whole = '', frac] = text.split('.');
  const head = spellDigits(whole.replace(/,/g, ''));
  if (frac === undefined || frac.length === 0) return head;
  return `${head} point ${[...frac].map((d) => ONES[Number(d)]!).join(' ')}`;
}

/** Normalise one utterance; the result is what the featurizer tokenises. */
export function normalizeText(input: string): string {
  let t = input.normalize('NFKC').toLowerCase();
  t = t.replace(/[\u2018\u2019\u02bc`´]/g, "'");
  // "$1.50" / "1£" -> "one point five zero pounds" (spoken order: amount, then currency).
  t = t.replace(/([$£€¥])\s*(\d[\d,]*(?:\.\d+)?)/g, (_m, cur: string, num: string) => ` ${num} ${CURRENCY_WORDS[cur]!} `);
  t = t.replace(/(\d[\d,]*(?:\.\d+)?)\s*([$£€¥])/g, (_m, num: string, cur: string) => ` ${num} ${CURRENCY_WORDS[cur]!} `);
  t = t.replace(/[$£€¥]/g, (cur) => ` ${CURRENCY_WORDS[cur]!} `);
  t = t.replace(/%/g, ' percent ');
  t = t.replace(/&/g, ' and ');
  // Ordinals and plain numbers: "2nd" -> "two nd" would be odd; keep the suffix as its own token.
  t = t.replace(/\d+(?:,\d{3})*(?:\.\d+)?/g, (num) => ` ${spellNumber(num)} `);
  t = t.replace(/'/g, '');
  t = t.replace(/[^a-z]+/g, ' ');
  return t.trim();
}
