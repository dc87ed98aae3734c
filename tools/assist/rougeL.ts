/** ROUGE-L F1 (longest common subsequence) of a candidate against a reference: words for English, characters for Chinese. */

/** Tokens compared: lower-cased words (English) or Han characters and Latin words (Chinese); punctuation dropped. */
export function rougeTokens(text: string, language: 'en' | 'zh'): string[] {
  const lower = text.toLowerCase();
  if (language === 'zh') return lower.match(/[\u4e00-\u9fff]|[a-z0-9]+/g) ?? [];
  return lower.match(/[a-z0-9]+(?:'[a-z]+)?/g) ?? [];
}

function lcsLength(a: readonly string[], b: readonly string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = a[i - 1] === b[j - 1] ? diag + 1 : Math.max(up, row[j - 1]!);
      diag = up;
    }
  }
  return row[b.length]!;
}

/** ROUGE-L F1 (beta = 1) in [0, 1]; 0 when either side has no tokens. */
export function rougeLF1(candidate: string, reference: string, language: 'en' | 'zh'): number {
  const c = rougeTokens(candidate, language);
  const r = rougeTokens(reference, language);
  if (c.length === 0 || r.length === 0) return 0;
  const l = lcsLength(c, r);
  if (l === 0) return 0;
  const p = l / c.length;
  const rec = l / r.length;
  return (2 * p * rec) / (p + rec);
}
