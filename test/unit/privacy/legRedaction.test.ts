import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LegRedaction, type ReleasedFinal } from '../../../appliance/privacy/legRedaction.js';
import { Redactor, type TimedWord } from '../../../appliance/privacy/redactor.js';

interface Final {
  text: string;
  words: TimedWord[];
}

/** A final whose words start at `startMs`, 300 ms per word. */
function final(text: string, startMs = 0): Final {
  return { text, words: text.split(' ').map((word, i) => ({ word, startMs: startMs + i * 300, endMs: startMs + i * 300 + 250 })) };
}

const DIGIT_WORDS = /\b(ZERO|OH|ONE|TWO|THREE|FOUR|FIVE|SIX|SEVEN|EIGHT|NINE)\b/;

function setup(holdMs = 2500, options: { maxHeldFinals?: number; maxHoldMs?: number } = {}) {
  const redactor = new Redactor();
  const released: ReleasedFinal<Final>[][] = [];
  const leg = new LegRedaction<Final>(redactor, { holdMs, ...options }, (f) => released.push(f));
  const texts = () => released.flat().map((r) => r.text);
  return { redactor, leg, released, texts };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('LegRedaction: a number split across finals', () => {
  it('redacts a card read out in four utterances as one, and releases each utterance with its share', () => {
    const { leg, released, texts, redactor } = setup();
    const parts = ['FOUR ONE ONE ONE', 'ONE ONE ONE ONE', 'ONE ONE ONE ONE', 'ONE ONE ONE ONE'];
    parts.forEach((p, i) => {
      leg.final(final(p, i * 3000));
      vi.advanceTimersByTime(1000);
    });
    // The last piece also ends in digits: the group waits for the hold to run out.
    expect(released).toHaveLength(0);
    expect(leg.heldCount).toBe(4);
    vi.advanceTimersByTime(2500);
    expect(released).toHaveLength(1);
    expect(texts()).toEqual(['[CARD]', '[CARD]', '[CARD]', '[CARD]']);
    // One card, counted once; each piece keeps its own timing.
    expect(redactor.totals.card).toBe(1);
    expect(redactor.totals.digits).toBe(0);
    const words = released[0]!.map((r) => r.words);
    expect(words[0]).toEqual([{ word: '[CARD]', startMs: 0, endMs: 3 * 300 + 250 }]);
    expect(words[2]).toEqual([{ word: '[CARD]', startMs: 6000, endMs: 6000 + 3 * 300 + 250 }]);
    // The first piece waited for three more finals and the hold; the last only for the hold.
    expect(released[0]!.map((r) => r.heldMs)).toEqual([5500, 4500, 3500, 2500]);
    expect(leg.stats).toMatchObject({ finals: 4, held: 4, heldMsMax: 5500, timeouts: 1 });
  });

  it('releases the group with the first final that does not end open, context included', () => {
    const { leg, released, texts } = setup();
    leg.final(final('MY CARD NUMBER IS FOUR FIVE'));
    leg.final(final('THREE NINE ONE FOUR'));
    expect(released).toHaveLength(0);
    leg.final(final('EIGHT EIGHT THANK YOU'));
    expect(released).toHaveLength(1);
    expect(texts()).toEqual(['MY CARD NUMBER IS [CARD]', '[CARD]', '[CARD] THANK YOU']);
    // Released at once when the closing final came: no timer left behind.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the piecewise redaction it replaces would have leaked the pieces', () => {
    const r = new Redactor();
    expect(['ONE', 'ONE ONE', 'ONE'].map((p) => r.redact(p).text)).toEqual(['ONE', 'ONE ONE', 'ONE']);
    const { leg, texts } = setup();
    for (const p of ['ONE', 'ONE ONE', 'ONE']) leg.final(final(p));
    vi.advanceTimersByTime(2500);
    // A digit run the speaker paused in is a number being read out.
    expect(texts()).toEqual(['[DIGITS]', '[DIGITS]', '[DIGITS]']);
  });

  it('a phone number split across utterances', () => {
    const { leg, texts } = setup();
    leg.final(final('YOU CAN CALL ME ON OH SEVEN SEVEN OH OH'));
    leg.final(final('NINE OH OH ONE TWO THREE'));
    vi.advanceTimersByTime(2500);
    expect(texts()).toEqual(['YOU CAN CALL ME ON [PHONE]', '[PHONE]']);
    expect(texts().join(' ')).not.toMatch(DIGIT_WORDS);
  });
});

describe('LegRedaction: names and e-mail cues', () => {
  it('holds "MY NAME IS" and redacts the name in the next final', () => {
    const { leg, released, texts } = setup();
    leg.final(final('HELLO MY NAME IS'));
    expect(released).toHaveLength(0);
    leg.final(final('JOHN SMITH AND I NEED HELP'));
    expect(texts()).toEqual(['HELLO MY NAME IS', '[NAME] AND I NEED HELP']);
  });

  it('holds a name that runs to the end of a final (the surname may follow)', () => {
    const { leg, texts } = setup();
    leg.final(final('MY NAME IS JOHN'));
    leg.final(final('SMITH'));
    vi.advanceTimersByTime(2500);
    expect(texts()).toEqual(['MY NAME IS [NAME]', '[NAME]']);
  });

  it('holds an e-mail cue and a spoken address that is not finished', () => {
    const { leg, texts } = setup();
    leg.final(final('MY EMAIL IS'));
    leg.final(final('MARY DOT JONES'));
    leg.final(final('AT EXAMPLE DOT COM THANKS'));
    expect(texts()).toEqual(['MY EMAIL IS', '[EMAIL]', '[EMAIL] THANKS']);
  });
});

describe('LegRedaction: the hold is bounded and costs nothing for other finals', () => {
  it('ordinary finals are released at once, in order, with no timer', () => {
    const { leg, released } = setup();
    leg.final(final('I WOULD LIKE TO CHECK MY BALANCE'));
    leg.final(final('I HAVE TWO ACCOUNTS'));
    expect(released.map((g) => g.map((r) => [r.text, r.heldMs]))).toEqual([
      [['I WOULD LIKE TO CHECK MY BALANCE', 0]],
      [['I HAVE TWO ACCOUNTS', 0]],
    ]);
    expect(vi.getTimerCount()).toBe(0);
    expect(leg.stats).toMatchObject({ finals: 2, held: 0 });
  });

  it('releases after holdMs when no next utterance starts', () => {
    const { leg, released } = setup(2500);
    leg.final(final('THE CODE IS FOUR FIVE'));
    vi.advanceTimersByTime(2499);
    expect(released).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(released).toHaveLength(1);
    expect(released[0]![0]).toMatchObject({ heldMs: 2500 });
  });

  it('waits longer once the next utterance has started (a partial), up to maxHoldMs', () => {
    const { leg, released, texts } = setup(2500, { maxHoldMs: 6000 });
    leg.final(final('MY PIN IS FOUR'));
    vi.advanceTimersByTime(1500);
    expect(leg.partial('ONE')).toBe('[DIGITS]');
    vi.advanceTimersByTime(3000);
    expect(released).toHaveLength(0);
    leg.final(final('ONE ONE NINE OK'));
    expect(texts()).toEqual(['MY PIN IS [DIGITS]', '[DIGITS] OK']);
    expect(released[0]![0]!.heldMs).toBe(4500);

    // A next utterance that never ends: released at the deadline.
    leg.final(final('MY PIN IS FOUR'));
    leg.partial('ONE ONE');
    vi.advanceTimersByTime(5999);
    expect(released).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(released).toHaveLength(2);
    expect(leg.stats).toMatchObject({ timeouts: 0, maxedOut: 1 });
  });

  it('no final waits more than maxHoldMs; the rest of a slowly read number is still redacted as part of it', () => {
    const { leg, released, texts, redactor } = setup(2500, { maxHoldMs: 7500 });
    // Card groups every 3 s, each next utterance starting in time.
    const pieces = [
      'MY CARD NUMBER IS FOUR FIVE',
      'THREE NINE',
      'ONE FOUR',
      'EIGHT EIGHT',
      'ZERO THREE',
      'FOUR THREE',
      'SIX FOUR',
      'SIX SEVEN THANKS',
    ];
    for (const p of pieces) {
      leg.final(final(p));
      vi.advanceTimersByTime(1000);
      leg.partial('SOMETHING');
      vi.advanceTimersByTime(2000);
    }
    // The first group was released when its oldest final had waited 7.5 s, the rest with the next ones.
    const waits = released.flat().map((r) => r.heldMs);
    expect(Math.max(...waits)).toBeLessThanOrEqual(7500);
    expect(leg.stats.maxedOut).toBeGreaterThanOrEqual(1);
    expect(texts()).toHaveLength(pieces.length);
    expect(texts()[0]).toBe('MY CARD NUMBER IS [CARD]');
    expect(texts().slice(1, -1), texts().join(' | ')).toEqual(Array(pieces.length - 2).fill('[CARD]'));
    expect(texts()[pieces.length - 1]).toBe('[CARD] THANKS');
    expect(texts().join(' ')).not.toMatch(DIGIT_WORDS);
    // Released in arrival order.
    expect(released.flat().map((r) => r.source.text)).toEqual(pieces);
    expect(redactor.totals.card).toBeGreaterThanOrEqual(1);
  });

  it('a complete address or a full name does not hold', () => {
    const { leg, released } = setup();
    leg.final(final('MY NAME IS JOHN SMITH'));
    leg.final(final('MY EMAIL IS MARY DOT JONES AT EXAMPLE DOT COM'));
    expect(released.flat().map((r) => [r.text, r.heldMs])).toEqual([
      ['MY NAME IS [NAME]', 0],
      ['MY EMAIL IS [EMAIL]', 0],
    ]);
  });

  it('releases a group at maxHeldFinals', () => {
    const { leg, released } = setup(2500, { maxHeldFinals: 3 });
    leg.final(final('ONE TWO'));
    leg.final(final('THREE FOUR'));
    expect(released).toHaveLength(0);
    leg.final(final('FIVE SIX'));
    expect(released).toHaveLength(1);
    expect(released[0]!.map((r) => r.text)).toEqual(['[DIGITS]', '[DIGITS]', '[DIGITS]']);
  });

  it('flush and close release what is held (leg end); later finals pass straight through', () => {
    const { leg, released, texts } = setup();
    leg.final(final('MY CARD IS FOUR ONE ONE ONE'));
    leg.flush();
    expect(texts()).toEqual(['MY CARD IS [CARD]']);
    leg.final(final('ONE ONE'));
    leg.close();
    leg.close();
    expect(released).toHaveLength(2);
    leg.final(final('ONE ONE ONE'));
    expect(released).toHaveLength(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('holdMs 0 never holds', () => {
    const { leg, released } = setup(0);
    leg.final(final('FOUR ONE ONE ONE'));
    expect(released).toHaveLength(1);
  });
});

describe('LegRedaction: partials while a group is held', () => {
  it('masks digits that continue a held digit run, even a single one', () => {
    const { leg } = setup();
    // Nothing held: a lone digit in a partial is not personal data.
    expect(leg.partial('ONE')).toBe('ONE');
    leg.final(final('FOUR ONE ONE ONE'));
    expect(leg.partial('ONE')).toBe('[DIGITS]');
    expect(leg.partial('ONE ONE ONE')).toBe('[DIGITS]');
    leg.final(final('ONE'));
    expect(leg.partial('ONE TWO AND')).toBe('[DIGITS] AND');
    // Words that do not continue the number pass.
    expect(leg.partial('THANK YOU')).toBe('THANK YOU');
  });

  it('masks a name or an address that continues a held cue', () => {
    const { leg } = setup();
    leg.final(final('MY NAME IS'));
    expect(leg.partial('JOHN SMITH')).toBe('[NAME]');
    leg.flush();
    leg.final(final('MY EMAIL ADDRESS IS'));
    expect(leg.partial('MARY DOT JONES')).toBe('[EMAIL]');
  });

  it('counts redactions that start in a partial only (the held finals are counted when released)', () => {
    const { leg, redactor } = setup();
    leg.final(final('FOUR ONE ONE ONE'));
    leg.partial('ONE');
    expect(redactor.totals.digits).toBe(0);
    leg.flush();
    expect(redactor.totals.digits).toBe(1);
  });
});
