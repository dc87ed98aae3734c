/** The model's token table (tokens.txt: `<symbol> <id>` per line). */
import { readFileSync } from 'node:fs';
import { evxError } from '../errors.js';

/** SentencePiece's word-start marker. */
export const WORD_START = '\u2581';

export class TokenTable {
  readonly symbols: readonly string[];
  readonly blankId: number;
  readonly unkId: number;
  private readonly ids: Map<string, number>;

  constructor(symbols: string[]) {
    this.symbols = symbols;
    this.ids = new Map(symbols.map((s, i) => [s, i]));
    this.blankId = this.ids.get('<blk>') ?? 0;
    this.unkId = this.ids.get('<unk>') ?? -1;
  }

  static fromFile(path: string): TokenTable {
    const text = readFileSync(path, 'utf8');
    const symbols: string[] = [];
    for (const [lineNo, raw] of text.split('\n').entries()) {
      const line = raw.trimEnd();
      if (line === '') continue;
      const sp = line.lastIndexOf(' ');
      const id = Number(line.slice(sp + 1));
      const sym = line.slice(0, Math.max(0, sp));
      if (sp <= 0 || !Number.isInteger(id) || id < 0) {
        throw evxError('EVX_ERR_MODEL_CONTRACT', `${path}:${lineNo + 1}: expected '<symbol> <id>'`, { details: { path } });
      }
      symbols[id] = sym;
    }
    for (let i = 0; i < symbols.length; i++) {
      if (symbols[i] === undefined) throw evxError('EVX_ERR_MODEL_CONTRACT', `${path}: token id ${i} missing`, { details: { path } });
    }
    return new TokenTable(symbols);
  }

  get size(): number {
    return this.symbols.length;
  }

  id(symbol: string): number | undefined {
    return this.ids.get(symbol);
  }

  symbol(id: number): string {
    return this.symbols[id] ?? '';
  }

  /** Join token ids into text: pieces concatenated, word-start markers become spaces. */
  text(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) s += this.symbols[ids[i]!] ?? '';
    return s.replaceAll(WORD_START, ' ').trim();
  }
}
