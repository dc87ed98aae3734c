import { deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntentClassifier } from '../../../appliance/intent/classifier.js';
import { IntentFeaturizer, validateFeaturizerConfig, type IntentFeaturizerConfig } from '../../../appliance/intent/featurizer.js';
import { defaultIntentZhSidecar } from '../../../appliance/intent/modelPaths.js';
import { normalizeChineseText, numberToChinese } from '../../../appliance/intent/normalizeZh.js';
import { isEdgeVoxError } from '../../../appliance/errors.js';
import {
  CROSSWOZ_LABELS,
  crosswozExamples,
  firstZipEntry,
  intentOfActs,
  type DialogueAct,
} from '../../../models/pipelines/intent/crosswoz.js';
import { unpunctuated } from '../../../models/pipelines/intent/evaluateZh.js';
import { acceptingThreshold } from '../../../models/pipelines/intent/calibrate.js';
import { readFileSync } from 'node:fs';

const ZH: IntentFeaturizerConfig = { scheme: 'edgevox-intent-hash-zh-v1', hashDim: 65536, wordNgrams: [0, 0], charNgrams: [1, 3] };

function snapshot(f: IntentFeaturizer, text: string): { ids: number[]; counts: number[] } {
  const r = f.featurize(text);
  return { ids: [...r.ids.subarray(0, r.length)].map(Number), counts: [...r.counts.subarray(0, r.length)] };
}

describe('Chinese intent text normalisation', () => {
  it('reads numbers the way they are spoken', () => {
    expect(numberToChinese(0)).toBe('零');
    expect(numberToChinese(10)).toBe('十');
    expect(numberToChinese(15)).toBe('十五');
    expect(numberToChinese(50)).toBe('五十');
    expect(numberToChinese(105)).toBe('一百零五');
    expect(numberToChinese(1001)).toBe('一千零一');
    expect(numberToChinese(2020)).toBe('二千零二十');
    expect(numberToChinese(20300)).toBe('二万零三百');
    expect(numberToChinese(12345)).toBe('一万二千三百四十五');
    expect(() => numberToChinese(-1)).toThrow(RangeError);
  });

  it('maps full-width typed text and an ASR final to the same form', () => {
    expect(normalizeChineseText('我要退５０元！')).toBe('我要退五十元');
    expect(normalizeChineseText('我要退五十元')).toBe('我要退五十元');
    expect(normalizeChineseText('ＶＩＰ会员，打９折？')).toBe('vip会员 打九折');
    expect(normalizeChineseText('订单号0042，手机13800138000')).toBe('订单号零零四二 手机一三八零零一三八零零零');
    expect(normalizeChineseText('利率2.5%')).toBe('利率百分之二点五');
    expect(normalizeChineseText('  。。？！  ')).toBe('');
  });
});

describe('IntentFeaturizer, Chinese scheme', () => {
  it('is accepted by the config check; an unknown scheme is still refused', () => {
    expect(validateFeaturizerConfig(ZH)).toEqual(ZH);
    expect((JSON.parse(readFileSync(defaultIntentZhSidecar(), 'utf8')) as { featurizer: unknown }).featurizer).toEqual(ZH);
    try {
      validateFeaturizerConfig({ ...ZH, scheme: 'edgevox-intent-hash-xx' });
      expect.unreachable();
    } catch (err) {
      expect(isEdgeVoxError(err) && err.code).toBe('EVX_ERR_MODEL_CONTRACT');
    }
  });

  it('takes character 1-3-grams per segment: typed and ASR forms give identical features', () => {
    const f = new IntentFeaturizer(ZH);
    const typed = snapshot(f, '你好，我想订５０元的酒店！');
    expect(snapshot(f, '你好 我想订五十元的酒店')).toEqual(typed);
    // "你好" (4 grams: 你, 好, 你好, <你, 好>, <你好, 你好>, ... ) is a segment of its own: different from the run-on form.
    expect(snapshot(f, '你好我想订五十元的酒店')).not.toEqual(typed);
    const one = snapshot(f, '酒店');
    // <酒 酒 酒店 <酒店 店 店> 酒店> : 1-grams without the bare markers, 2- and 3-grams with them.
    expect(one.ids.length).toBeLessThanOrEqual(7);
    expect(one.ids.length).toBeGreaterThanOrEqual(6);
  });

  it('is not the English scheme: Chinese text has features only under the Chinese one', () => {
    const en = new IntentFeaturizer({ scheme: 'edgevox-intent-hash-v1', hashDim: 65536, wordNgrams: [1, 3], charNgrams: [2, 5] });
    expect(en.featurize('我想订酒店').length).toBe(0);
    expect(new IntentFeaturizer(ZH).featurize('我想订酒店').length).toBeGreaterThan(10);
  });
});

describe('CrossWOZ user turns as intents', () => {
  const act = (...a: DialogueAct): DialogueAct => a;
  it('labels a turn by its Select domain, else its single task domain, else its closing', () => {
    expect(
      intentOfActs([
        act('General', 'greet', 'none', 'none'),
        act('Inform', '餐馆', '人均消费', '50-100元'),
        act('Request', '餐馆', '名称', ''),
      ]),
    ).toBe('zh.restaurant');
    expect(
      intentOfActs([
        act('Inform', '景点', '名称', '故宫'),
        act('Inform', '餐馆', '周边景点', '故宫'),
        act('Select', '餐馆', '源领域', '景点'),
      ]),
    ).toBe('zh.restaurant');
    expect(intentOfActs([act('Request', '出租', '车型', '')])).toBe('zh.taxi');
    expect(intentOfActs([act('General', 'thank', 'none', 'none'), act('General', 'bye', 'none', 'none')])).toBe('zh.bye');
    expect(intentOfActs([act('General', 'thank', 'none', 'none')])).toBe('zh.thank');
  });

  it('leaves out turns without one intent', () => {
    expect(intentOfActs([act('Inform', '景点', '名称', '故宫'), act('Request', '酒店', '名称', '')])).toBeNull();
    expect(intentOfActs([act('General', 'greet', 'none', 'none')])).toBeNull();
    expect(intentOfActs([])).toBeNull();
    const examples = crosswozExamples({
      '1': {
        messages: [
          { role: 'usr', content: '帮我找一家酒店。', dialog_act: [act('Request', '酒店', '名称', '')] },
          { role: 'sys', content: '推荐北京饭店。', dialog_act: [act('Inform', '酒店', '名称', '北京饭店')] },
          { role: 'usr', content: '你好', dialog_act: [act('General', 'greet', 'none', 'none')] },
        ],
      },
    });
    expect(examples).toEqual([{ text: '帮我找一家酒店。', label: 'zh.hotel' }]);
    for (const e of examples) expect(CROSSWOZ_LABELS).toContain(e.label);
  });

  it('reads the first file of a deflated zip archive', () => {
    const body = Buffer.from('{"中文": 1}', 'utf8');
    const packed = deflateRawSync(body);
    const name = Buffer.from('x.json');
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(0, 6);
    header.writeUInt16LE(8, 8);
    header.writeUInt32LE(packed.length, 18);
    header.writeUInt32LE(body.length, 22);
    header.writeUInt16LE(name.length, 26);
    expect(firstZipEntry(Buffer.concat([header, name, packed])).toString('utf8')).toBe('{"中文": 1}');
    expect(() => firstZipEntry(Buffer.from('not a zip at all, really not'))).toThrow(/not a zip/);
  });
});

describe('IntentClassifier (shipped Chinese model)', () => {
  let clf: IntentClassifier;
  beforeAll(async () => {
    clf = await IntentClassifier.load(defaultIntentZhSidecar());
  });
  afterAll(async () => {
    await clf.close();
  });

  it('has the CrossWOZ labels and classifies typed and unpunctuated (ASR-shaped) Chinese alike', async () => {
    expect(clf.labels).toEqual(CROSSWOZ_LABELS);
    const cases: [string, string][] = [
      ['你好，帮我推荐一家人均消费100元左右的餐馆。', 'zh.restaurant'],
      ['我想住一家有免费wifi的酒店，价格在500元以内。', 'zh.hotel'],
      ['故宫的门票多少钱？', 'zh.attraction'],
      ['帮我叫一辆出租车。', 'zh.taxi'],
      ['好的，谢谢你！', 'zh.thank'],
    ];
    for (const [text, label] of cases) {
      const typed = await clf.classify(text);
      expect(typed.intent).toBe(label);
      expect((await clf.classify(unpunctuated(text))).intent).toBe(label);
      expect(typed.outOfScope).toBe(false);
    }
  });

  it('flags requests outside its travel domain and content-free openings as out of scope', async () => {
    expect(clf.oosThreshold).toBeGreaterThan(0.2);
    for (const text of ['我的信用卡丢了', '帮我查一下话费余额', '喂你好', '嗯']) expect((await clf.classify(text)).outOfScope).toBe(true);
  });
});

describe('acceptingThreshold', () => {
  it('accepts the requested share of in-scope scores, midway between neighbours', () => {
    const probs = Array.from({ length: 20 }, (_, i) => (i + 1) / 20);
    const t = acceptingThreshold(probs, 0.95);
    expect(probs.filter((p) => p >= t).length).toBe(19);
    expect(t).toBeCloseTo(0.075, 10);
    expect(acceptingThreshold(probs, 1)).toBe(0);
  });
});
