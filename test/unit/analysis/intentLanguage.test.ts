/**
 * The intent analyser picks its model by the final's language: English finals go to the BANKING77
 * model, Mandarin finals to models/intent-zh; the Chinese labels then route like any other intent
 * through skill groups that list them (next to English ones).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntentUtteranceAnalyser, type IntentAnalysis } from '../../../appliance/analysis/intentAnalyser.js';
import type { UtteranceContext } from '../../../appliance/calls/analysis.js';
import { IntentClassifier } from '../../../appliance/intent/classifier.js';
import { groupForIntent } from '../../../appliance/routing/engine.js';
import { checkRoutingConfig } from '../../../appliance/routing/schemas.js';
import { DEFAULT_RULES, type RoutingRules, type SkillGroup } from '../../../appliance/routing/types.js';
import { REPO_ROOT } from '../../helpers/paths.js';

const ctx = (text: string, language?: 'en' | 'zh'): UtteranceContext => ({
  callId: 'call-1',
  legId: 'leg-1',
  speaker: 'caller',
  utteranceId: 3,
  text,
  ...(language !== undefined ? { language } : {}),
  startMs: 0,
  endMs: 2000,
  audio: new Int16Array(0),
  sampleRateHz: 8000,
});

const group = (id: string, intents: string[]): SkillGroup => ({
  id,
  name: id,
  intents,
  adjacent: [],
  overflow: { maxWaitMs: 120_000, action: 'none' },
});
const GROUPS = [
  group('cards', ['lost_or_stolen_card', 'card_arrival']),
  group('lodging', ['zh.hotel']),
  group('transport', ['zh.taxi', 'zh.metro']),
  group('general', []),
];
const rules: RoutingRules = { ...DEFAULT_RULES, defaultGroup: 'general', minIntentConfidence: 0.3 };

describe('intent analyser by language', () => {
  let en: IntentClassifier;
  let zh: IntentClassifier;
  beforeAll(async () => {
    en = await IntentClassifier.load(join(REPO_ROOT, 'models', 'intent', 'intent.json'));
    zh = await IntentClassifier.load(join(REPO_ROOT, 'models', 'intent-zh', 'intent.json'));
  });
  afterAll(async () => {
    await en?.close();
    await zh?.close();
  });

  it('classifies a Mandarin final with the Chinese model and an English (or unmarked) one with the English model', async () => {
    const a = new IntentUtteranceAnalyser({ en, zh }, { speakers: ['caller'] });
    const hotel = (await a.analyse(ctx('我想订一家五百元以内的酒店', 'zh'))) as unknown as IntentAnalysis;
    expect(hotel.intent).toBe('zh.hotel');
    const card = (await a.analyse(ctx('i lost my card yesterday can you block it', 'en'))) as unknown as IntentAnalysis;
    expect(card.intent).toBe('lost_or_stolen_card');
    const unmarked = (await a.analyse(ctx('i lost my card yesterday can you block it'))) as unknown as IntentAnalysis;
    expect(unmarked.intent).toBe('lost_or_stolen_card');
  });

  it('gives a final in a language without a model no intent (not a guess from the other model)', async () => {
    const englishOnly = new IntentUtteranceAnalyser(en, { speakers: ['caller'] });
    expect(await englishOnly.analyse(ctx('我想订一家酒店', 'zh'))).toBeNull();
    expect(await englishOnly.analyse(ctx('i lost my card', 'en'))).not.toBeNull();
    const chineseOnly = new IntentUtteranceAnalyser({ zh }, { speakers: ['caller'] });
    expect(await chineseOnly.analyse(ctx('i lost my card', 'en'))).toBeNull();
  });

  it('routes a Chinese call by its Chinese intent through groups that list zh. labels beside English ones', async () => {
    expect(() => checkRoutingConfig(GROUPS, [], rules)).not.toThrow();
    const a = new IntentUtteranceAnalyser({ en, zh }, { speakers: ['caller'] });
    const route = async (text: string, language: 'en' | 'zh'): Promise<string> => {
      const r = (await a.analyse(ctx(text, language))) as unknown as IntentAnalysis;
      return groupForIntent({ callId: 'c', intent: r, emotion: null, profile: null }, GROUPS, rules).groupId;
    };
    expect(await route('我想订一家五百元以内的酒店', 'zh')).toBe('lodging');
    expect(await route('帮我叫一辆出租车去机场', 'zh')).toBe('transport');
    expect(await route('my new card has still not arrived', 'en')).toBe('cards');
    expect(await route('谢谢你', 'zh')).toBe('general');
  });
});
