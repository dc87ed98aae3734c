/**
 * Looking for planted personal data (a phone number, a name, a secret) in what the box produced,
 * without mistaking other numbers for it. A planted digit string counts only where it stands as a
 * number of its own: not inside a longer run of digits or a decimal (a timestamp, a metric value
 * such as `0.00019407700000010662`, a duration), which can contain any short digit string by chance.
 * Planted values with letters are looked for as they are.
 */
export function containsPlanted(text: string, planted: string): boolean {
  if (!/^[\d +()-]+$/.test(planted)) return text.includes(planted);
  const escaped = planted.replace(/[+()]/g, (c) => `\\${c}`);
  return new RegExp(`(?<![\\d.])${escaped}(?![\\d])`).test(text);
}

/** The planted values that do show up in `text` (expect it to be empty). */
export function plantedIn(text: string, planted: readonly string[]): string[] {
  return planted.filter((p) => containsPlanted(text, p));
}
