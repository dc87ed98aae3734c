import { pinyin } from 'pinyin-pro';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SpeechLanguage } from '../../../appliance/asr/language.js';
import { LegRedaction, type ReleasedFinal } from '../../../appliance/privacy/legRedaction.js';
import { Redactor, type TimedWord } from '../../../appliance/privacy/redactor.js';

interface Final {
  text: string;
  words: TimedWord[];
  language?: SpeechLanguage;
  pinyin?: string;
}

/** A Mandarin final as the recogniser gives it: characters, one word per character, 250 ms each, and its pinyin. */
function final(text: string, startMs = 0, heard = pinyin(text, { toneSandhi: false })): Final {
  const words = Array.from(text).map((word, i) => ({ word, startMs: startMs + i * 250, endMs: startMs + i * 250 + 200 }));
  return { text, words, language: 'zh', pinyin: heard };
}

function setup(holdMs = 2500) {
  const redactor = new Redactor();
  const released: ReleasedFinal<Final>[][] = [];
  const leg = new LegRedaction<Final>(redactor, { holdMs }, (f) => released.push(f));
  const texts = () => released.flat().map((r) => r.text);
  return { redactor, leg, released, texts };
}

const DIGIT_CHARS = /[0-9零〇一二三四五六七八九幺]/;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('LegRedaction: Chinese finals', () => {
  it('holds 我的手机号是幺三八 and redacts the number finished in the next final as one', () => {
    const { leg, released, texts, redactor } = setup();
    leg.final(final('我的手机号是幺三八'));
    expect(released).toHaveLength(0);
    vi.advanceTimersByTime(800);
    leg.final(final('一二三四五六七八', 3000));
    expect(texts()).toEqual(['我的手机号是[PHONE]', '[PHONE]']);
    expect(texts().join('')).not.toMatch(DIGIT_CHARS);
    expect(redactor.totals.phone).toBe(1);
    // Each final keeps its own timing: the placeholder word covers its own digits' time.
    const first = released.flat()[0]!;
    expect(first.words[first.words.length - 1]).toEqual({ word: '[PHONE]', startMs: 1500, endMs: 2200 });
    expect(first.heldMs).toBe(800);
  });

  it('the same number through homophones: the pinyin heard carries it across the pause', () => {
    const { leg, texts } = setup();
    leg.final(final('我的手机号是要散吧', 0, 'wǒ de shǒu jī hào shì yāo sān bā'));
    leg.final(final('衣而三是舞六期吧', 3000, 'yī èr sān sì wǔ liù qī bā'));
    expect(texts()).toEqual(['我的手机号是[PHONE]', '[PHONE]']);
  });

  it('holds a name cue and an address cue', () => {
    const { leg, texts } = setup();
    leg.final(final('你好我叫'));
    leg.final(final('王小明想问一下'));
    leg.final(final('我的地址是'));
    leg.final(final('建国路八十八号'));
    vi.advanceTimersByTime(2500);
    expect(texts()).toEqual(['你好我叫', '[NAME]想问一下', '我的地址是', '[ADDRESS]']);
  });

  it('ordinary Chinese finals are released at once', () => {
    const { leg, texts } = setup();
    for (const t of ['我是想问一下', '我的账单有问题', '好的谢谢']) leg.final(final(t));
    expect(texts()).toEqual(['我是想问一下', '我的账单有问题', '好的谢谢']);
  });

  it('an ID read out slowly in groups: released at maxHoldMs, the rest still redacted with the pinyin kept as context', () => {
    const { leg, released, texts } = setup();
    const pieces = ['身份证号是一一零', '一零五', '一九四九', '一二三一', '零零二叉谢谢'];
    for (const p of pieces) {
      leg.final(final(p));
      vi.advanceTimersByTime(1000);
      leg.partial('呃');
      vi.advanceTimersByTime(2000);
    }
    leg.flush();
    expect(Math.max(...released.flat().map((r) => r.heldMs))).toBeLessThanOrEqual(7500);
    expect(leg.stats.maxedOut).toBeGreaterThanOrEqual(1);
    expect(texts().join('|')).not.toMatch(DIGIT_CHARS);
    expect(texts()[0]).toMatch(/^身份证号是\[(ID|DIGITS)\]$/);
    expect(texts()[pieces.length - 1]).toMatch(/^\[(ID|DIGITS)\]谢谢$/);
  });

  it('a partial on a Chinese leg continues a held number', () => {
    const { leg } = setup();
    leg.final(final('我的手机号是幺三八'));
    expect(leg.partial('一二三四')).toBe('[PHONE]');
    expect(leg.partial('好的')).toBe('好的');
  });
});
