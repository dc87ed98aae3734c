import { pinyin } from 'pinyin-pro';
import { describe, expect, it } from 'vitest';
import { Redactor, type RedactionPart } from '../../../appliance/privacy/redactor.js';
import { residentIdValid } from '../../../appliance/privacy/spokenPiiZh.js';

/** Tonal pinyin of a text, one syllable per character, as the recogniser reports it (no tone sandhi). */
function py(text: string): string {
  return pinyin(text, { toneSandhi: false });
}

/** A Chinese final: characters and the pinyin heard (by default the characters' own reading). */
function zh(text: string, heard = py(text)): RedactionPart {
  return { text, language: 'zh', pinyin: heard };
}

function redact(text: string, heard?: string) {
  return new Redactor().redactJoined([zh(text, heard)])[0]!;
}

/** Digits read out one character each (幺 for 1 when `yao`). */
function spoken(digits: string, yao = false): string {
  return [...digits].map((d) => (yao && d === '1' ? '幺' : '零一二三四五六七八九'[Number(d)]!)).join('');
}

const ID = '11010519491231002X';
const ID2 = '440304199001011233';
const CARD = '6222021234567894';

describe('Chinese redaction: numbers', () => {
  it('a mobile number in Arabic, full-width and numeral characters, 幺 for one', () => {
    expect(redact('我的手机号是13812345678').text).toBe('我的手机号是[PHONE]');
    expect(redact('电话１３８１２３４５６７８谢谢').text).toBe('电话[PHONE]谢谢');
    expect(redact(`我的手机号是${spoken('13812345678', true)}`).text).toBe('我的手机号是[PHONE]');
    const out = redact(`${spoken('15912345678')}`);
    expect(out.text).toBe('[PHONE]');
    expect(out.counts.phone).toBe(1);
  });

  it('a mobile number the language model wrote as homophones, found through the pinyin heard', () => {
    const text = '我的手机号是要散吧衣而三是舞六期吧';
    const heard = 'wǒ de shǒu jī hào shì yāo sān bā yī èr sān sì wǔ liù qī bā';
    expect(redact(text, heard).text).toBe('我的手机号是[PHONE]');
    // The same characters read with their own (other) tones are not a number.
    expect(redact(text).text).toBe(text);
  });

  it('an 18-character resident ID with a valid check character, X or 叉 included', () => {
    expect(residentIdValid(ID)).toBe(true);
    expect(residentIdValid(ID2)).toBe(true);
    expect(redact(`身份证号是${ID}`).text).toBe('身份证号是[ID]');
    expect(redact(`号码${ID2}`).text).toBe('号码[ID]');
    const out = redact(`${spoken(ID.slice(0, 17))}叉`);
    expect(out.text).toBe('[ID]');
    expect(out.counts.id).toBe(1);
  });

  it('a wrong check character is not an ID (a long number is still hidden, as digits)', () => {
    const wrong = ID2.slice(0, 17) + '4';
    expect(residentIdValid(wrong)).toBe(false);
    const out = redact(`这个是${spoken(wrong)}`);
    expect(out.counts.id).toBe(0);
    expect(out.text).toBe('这个是[DIGITS]');
  });

  it('a bank card passing Luhn; a random 16-digit number failing Luhn is not a card', () => {
    expect(redact(`${CARD}`).text).toBe('[CARD]');
    expect(redact(`卡号是${spoken('6217000000112233444')}`).counts.card).toBe(1);
    const random = redact('1234567890123456');
    expect(random.counts.card).toBe(0);
    expect(random.text).toBe('[DIGITS]');
  });

  it('short numbers, prices and dates stay', () => {
    for (const t of ['我要两个', '五月三号下午三点', '一共三百五十块', '二零二四年', '等一下', '第一次打电话', '我想订一张明天去上海的票'])
      expect(redact(t).text).toBe(t);
  });

  it('quantities stay: a price range, hours, a range 之间; an identifier before a unit is still hidden', () => {
    for (const t of ['最低价格400-500元的酒店', '价格最好在200-300之间', '人均消费一零零一五零元', '游玩时间1-2小时', '评分4.5分以上'])
      expect(redact(t).text).toBe(t);
    expect(redact('我的手机13812345678号码').text).toBe('我的手机[PHONE]号码');
    expect(redact(`${ID}人`).text).toBe('[ID]人');
  });

  it('a typed phone number with dots between its groups: mobile, landline, full-width, after +86', () => {
    expect(redact('我的手机号是138.1234.5678').text).toBe('我的手机号是[PHONE]');
    expect(redact('139.1234.5678。').text).toBe('[PHONE]。');
    const landline = redact('电话010.8888.6666谢谢');
    expect(landline.text).toBe('电话[PHONE]谢谢');
    expect(landline.counts.phone).toBe(1);
    expect(redact('座机0755.12345678').text).toBe('座机[PHONE]');
    expect(redact('手机１３８．１２３４．５６７８').text).toBe('手机[PHONE]');
    expect(redact('+86.138.1234.5678').text).toBe('[PHONE]');
  });

  it('dots in other numbers do not make a phone number: decimals, versions, dates, addresses, amounts', () => {
    for (const t of [
      '版本1.3.5',
      '价格是138.50元',
      '日期2023.10.01',
      '地址192.168.1.1',
      '金额1380.1234元',
      '评分4.5分以上',
      '138.1234.5678.9',
    ])
      expect(redact(t).counts.phone, t).toBe(0);
  });

  it('syllables matching a digit only without their tone do not make a number', () => {
    // 要就是吧 (yào jiù shì ba): toneless yao, jiu, ba — weak; with sure digits around they only fill in.
    const text = '要就起吧就要吧起就';
    expect(redact(text).text).toBe(text);
  });
});

describe('Chinese redaction: names', () => {
  it('after 我叫, 名字是, 姓名是: the next characters up to a particle or pronoun', () => {
    expect(redact('我叫王小明').text).toBe('我叫[NAME]');
    expect(redact('你好我叫李娜想问一下').text).toBe('你好我叫[NAME]想问一下');
    expect(redact('我的名字是欧阳娜娜').text).toBe('我的名字是[NAME]');
    expect(redact('姓名是张伟').text).toBe('姓名是[NAME]');
  });

  it('a given name with a numeral character is taken whole (张三, 王一博), a number after it is still a number', () => {
    expect(redact('我叫张三').text).toBe('我叫[NAME]');
    expect(redact('你好我叫王一博想问一下').text).toBe('你好我叫[NAME]想问一下');
    expect(redact('姓名是李四光').text).toBe('姓名是[NAME]');
    expect(redact('我叫张三，电话是一三八零零一三八零零零').text).toBe('我叫[NAME]，电话是[PHONE]');
    expect(redact('我叫王一三八零零一三八零零零').text).toBe('我叫[NAME][PHONE]');
    // a numeral first is no name: 我叫一个朋友…
    expect(redact('我叫一个朋友帮忙').text).toBe('我叫一个朋友帮忙');
  });

  it('typed form fields with a colon: 姓名：, 联系人：, 收件人：', () => {
    expect(redact('姓名：王小明').text).toBe('姓名：[NAME]');
    expect(redact('姓名: 王小明').text).toBe('姓名: [NAME]');
    expect(redact('联系人：李雷，电话13800138000').text).toBe('联系人：[NAME]，电话[PHONE]');
    expect(redact('收件人：韩梅梅').text).toBe('收件人：[NAME]');
    expect(redact('持卡人:欧阳娜娜').text).toBe('持卡人:[NAME]');
  });

  it('after 我姓, 免贵姓: a surname', () => {
    expect(redact('我姓张').text).toBe('我姓[NAME]');
    expect(redact('免贵姓马').text).toBe('免贵姓[NAME]');
    expect(redact('您贵姓').text).toBe('您贵姓');
    expect(redact('老百姓都知道').text).toBe('老百姓都知道');
  });

  it('我是 takes a name only when it starts with a listed surname: 我是想问… is not redacted', () => {
    for (const t of [
      '我是想问一下',
      '我是想问我的账单',
      '我是来办业务的',
      '我是马上要出门',
      '我是高兴的',
      '我是说这个不对',
      '我是在网上买的',
      '我是顾客',
      '我是余额不足',
      '我是江苏的',
      '我是周末打的',
      '我是曾经买过',
    ])
      expect(redact(t).text).toBe(t);
    expect(redact('我是王小明想问一下').text).toBe('我是[NAME]想问一下');
    expect(redact('我是李先生').text).toBe('我是[NAME]先生');
    expect(redact('你好我是小陈').text).toBe('你好我是[NAME]');
  });

  it('我叫 as "called / ordered" is not a name', () => {
    for (const t of ['我叫了外卖', '我叫车过去', '我叫他明天来', '麻烦您帮我叫辆出租车', '给我叫下车']) expect(redact(t).text).toBe(t);
  });

  it('名字是 and 名叫 name a person only after 我的/我/他的 (places and shops have names too)', () => {
    for (const t of ['我想去名叫草莓博览园的景点', '名字是北京亚运村民宿的酒店']) expect(redact(t).text).toBe(t);
    expect(redact('我名叫赵敏').text).toBe('我名叫[NAME]');
  });
});

describe('Chinese redaction: e-mail addresses', () => {
  it('a typed address in Chinese text, with or without spaces, plus-addressing and a numeric (QQ) local part', () => {
    expect(redact('我的邮箱是zhang.san@qq.com').text).toBe('我的邮箱是[EMAIL]');
    expect(redact('邮箱 zhang.san+vip@163.com 谢谢').text).toBe('邮箱 [EMAIL] 谢谢');
    expect(redact('发到12345678@qq.com。').text).toBe('发到[EMAIL]。');
    expect(redact('请发到ｚｈａｎｇ＠ｅｘａｍｐｌｅ．ｃｎ').text).toBe('请发到[EMAIL]');
    const out = redact('联系我 li_si-01@mail.example.com.cn 或者手机13812345678');
    expect(out.text).toBe('联系我 [EMAIL] 或者手机[PHONE]');
    expect(out.counts.email).toBe(1);
  });

  it('an @ without an address around it stays', () => {
    expect(redact('在@某人之前').text).toBe('在@某人之前');
    expect(redact('发到abc@qq').text).toBe('发到abc@qq');
  });
});

describe('Chinese redaction: addresses', () => {
  it('a chain of units specific enough to find a home', () => {
    expect(redact('我住在北京市朝阳区建国路88号3栋2单元401室').text).toBe('我住在[ADDRESS]');
    expect(redact('送到建国路八十八号谢谢').text).toBe('送到[ADDRESS]谢谢');
    expect(redact('就是三号楼二单元五零二').text).toBe('就是[ADDRESS]');
    expect(redact('地址是朝阳区').text).toBe('地址是[ADDRESS]');
  });

  it('a street named after a village or town (中关村大街) is one unit: the house number stays in the chain', () => {
    expect(redact('北京市海淀区中关村大街1号').text).toBe('[ADDRESS]');
    expect(redact('寄到北京市海淀区中关村大街27号').text).toBe('寄到[ADDRESS]');
    expect(redact('收件地址：朝阳区三里屯路19号院').text).not.toContain('19');
  });

  it('a district whose name ends like a common noun (南山区: 山区) is a district after its city', () => {
    expect(redact('深圳市南山区8栋').text).toBe('[ADDRESS]');
    expect(redact('收货地址：深圳市南山区科技园南区8栋').text).toBe('收货地址：[ADDRESS]');
    expect(redact('我老家在山区').text).toBe('我老家在山区');
  });

  it('places and words that only look like units stay', () => {
    for (const t of [
      '我在上海市',
      '麦当劳中关村南大街店电话是多少',
      '我去超市买东西',
      '在三楼会议室开会',
      '我的手机号码丢了',
      '路上堵车',
      '北京市场很大',
      '我在办公室',
      '我想省钱',
    ])
      expect(redact(t).text).toBe(t);
  });
});

describe('Chinese redaction: words and parts', () => {
  it('replaces the recogniser words that hold a value by one placeholder word over their time', () => {
    const text = '我的手机号是13812345678';
    const words = [
      { word: '我的', startMs: 0, endMs: 300 },
      { word: '手机号', startMs: 300, endMs: 800 },
      { word: '是', startMs: 800, endMs: 900 },
      { word: '138', startMs: 900, endMs: 1500 },
      { word: '1234', startMs: 1500, endMs: 2500 },
      { word: '5678', startMs: 2500, endMs: 3500 },
    ];
    const out = new Redactor().redact(text, words, { language: 'zh' });
    expect(out.words).toEqual([...words.slice(0, 3), { word: '[PHONE]', startMs: 900, endMs: 3500 }]);
  });

  it('a number spoken over two finals is found when they are redacted together; each keeps its share', () => {
    const r = new Redactor();
    const parts = [zh('我的手机号是幺三八'), zh('一二三四五六七八')];
    const [a, b] = r.redactJoined(parts);
    expect(a!.text).toBe('我的手机号是[PHONE]');
    expect(b!.text).toBe('[PHONE]');
    expect(a!.counts.phone + b!.counts.phone).toBe(1);
    // Piecewise, the first three digits would have been left in the clear.
    expect(r.redact(parts[0]!.text, [], parts[0]).text).toBe('我的手机号是幺三八');
  });

  it('openEnding: digits, name cues and addresses the next utterance may continue', () => {
    const r = new Redactor();
    expect(r.openEnding([zh('我的手机号是幺三八')])).toBe('digits');
    expect(r.openEnding([zh('我的电话是一')])).toBe('digits');
    expect(r.openEnding([zh('我叫')])).toBe('name');
    expect(r.openEnding([zh('你好我是')])).toBe('name');
    expect(r.openEnding([zh('我的地址是')])).toBe('address');
    expect(r.openEnding([zh('北京市朝阳区')])).toBe('address');
    for (const t of ['我是想问一下', '好的谢谢', '第一', '我要两个', '我在上海市', '请告诉我餐馆的地址', '这家餐馆的地址是？'])
      expect(r.openEnding([zh(t)])).toBeNull();
  });

  it('English text and texts without a language keep the English rules', () => {
    const r = new Redactor();
    expect(r.redactJoined([{ text: 'MY NAME IS JOHN SMITH' }])[0]!.text).toBe('MY NAME IS [NAME]');
    expect(r.redact('我叫王小明').text).toBe('我叫王小明');
    expect(r.redact('我叫王小明', [], { language: 'zh' }).text).toBe('我叫[NAME]');
  });

  it('a partial with Chinese characters is read by the Chinese rules, with the held finals before it', () => {
    const r = new Redactor();
    expect(r.redactPartial('一二三四五').text).toBe('[DIGITS]');
    expect(r.redactPartial('一二三四五六七八', [zh('我的手机号是幺三八')]).text).toBe('[PHONE]');
    expect(r.redactPartial('ONE TWO THREE FOUR FIVE').text).toBe('[DIGITS]');
  });

  it('categories switched off are left', () => {
    const r = new Redactor({ categories: ['name'] });
    expect(r.redact('我叫王小明手机13812345678', [], { language: 'zh' }).text).toBe('我叫[NAME]手机13812345678');
  });
});

describe('Chinese redaction: hostile input', () => {
  // Linear work: a quadratic step would run these for minutes (the test's timeout), not a second.
  it('very long, mixed-script, emoji and combining-mark input is handled in one pass and stays correct', () => {
    const r = new Redactor();
    const noise = '你好😀ａｂc\u0301市号路一'.repeat(5_000);
    const long = r.redact(`${noise}我的手机号是13812345678${noise}`, [], { language: 'zh' });
    expect(long.counts.phone).toBe(1);
    expect(long.text).not.toContain('13812345678');
    const digits = r.redact('一'.repeat(50_000), [], { language: 'zh' });
    expect(digits.text).toBe('[DIGITS]');
    const cues = r.redact('我叫我是我姓地址是'.repeat(5_000), [], { language: 'zh' });
    expect(cues.text.length).toBeGreaterThan(0);
    // A surrogate pair or a combining mark next to a number does not break it or leak half of it.
    expect(r.redact('😀13812345678\u0301', [], { language: 'zh' }).text).toBe('😀[PHONE]\u0301');
    // Pinyin that does not match the characters (count differs) is ignored, not misaligned.
    expect(r.redact('要散吧', [], { language: 'zh', pinyin: 'yāo sān' }).text).toBe('要散吧');
  });
});
