/**
 * What Chinese transcript redaction knows about spoken personal data: digits as characters
 * (一三八, 幺, 两, 零/洞, Arabic and full-width digits) and as pinyin syllables (the recogniser's own
 * reading, which survives when its language model picks a homophone), the cues before numbers and
 * names, common surnames, and the checksums of resident ID numbers (ISO 7064 MOD 11-2).
 * The Chinese redactor (privacy/redactorZh.ts) decides what to redact with them.
 */
import type { RedactionPart } from './redactionTypes.js';

// --- digits ------------------------------------------------------------------------------------

/** How sure a character is a digit: typed or a numeral character, the digit's exact tonal syllable, or a toneless match. */
export type Strength = 1 | 2 | 3;
/** The syllable matches a digit's without its tone (要 yào for 幺 yāo), or 两/洞 (also ordinary words). */
export const WEAK: Strength = 1;
/** The recogniser heard the digit's syllable with its tone, whatever character the language model chose. */
export const TONAL: Strength = 2;
/** An Arabic, full-width or numeral character. */
export const STRONG: Strength = 3;

const NUMERAL_CHARS: Record<string, string> = {
  零: '0',
  〇: '0',
  一: '1',
  幺: '1',
  二: '2',
  三: '3',
  四: '4',
  五: '5',
  六: '6',
  七: '7',
  八: '8',
  九: '9',
  壹: '1',
  贰: '2',
  叁: '3',
  肆: '4',
  伍: '5',
  陆: '6',
  柒: '7',
  捌: '8',
  玖: '9',
};
/** Numeral characters that are also common words (两个, 山洞): weak alone. */
const WEAK_NUMERAL_CHARS: Record<string, string> = { 两: '2', 洞: '0' };

/** Digit syllables as read out in numbers (一 is yī or yāo; 两 liǎng; 洞 dòng for zero). */
const DIGIT_SYLLABLES: Record<string, string> = {
  líng: '0',
  dòng: '0',
  yī: '1',
  yāo: '1',
  èr: '2',
  liǎng: '2',
  sān: '3',
  sì: '4',
  wǔ: '5',
  liù: '6',
  qī: '7',
  bā: '8',
  jiǔ: '9',
};
const TONELESS_DIGITS: Record<string, string> = {};
for (const [s, d] of Object.entries(DIGIT_SYLLABLES)) TONELESS_DIGITS[toneless(s)] = d;

/** The check character X of an ID number, written or read (叉 chā). */
const X_CHARS = new Set(['X', 'x', 'Ｘ', 'ｘ', '叉']);
const X_SYLLABLES = new Set(['chā', 'cha']);

/** Pinyin without tone marks, lower case ("yāo" → "yao", "lǜ" → "lü"). */
export function toneless(syllable: string): string {
  return syllable
    .normalize('NFD')
    .replace(/[\u0300\u0301\u0304\u030c]/g, '')
    .normalize('NFC')
    .toLowerCase()
    .replace(/[1-5]$/, '');
}

/** A digit and how sure it is, from a character and (when known) the syllable heard for it. */
export function digitOf(ch: string, syllable: string | null): { digit: string; strength: Strength } | null {
  const code = ch.charCodeAt(0);
  if (ch.length === 1 && code >= 0x30 && code <= 0x39) return { digit: ch, strength: STRONG };
  if (ch.length === 1 && code >= 0xff10 && code <= 0xff19) return { digit: String(code - 0xff10), strength: STRONG };
  const numeral = NUMERAL_CHARS[ch];
  if (numeral !== undefined) return { digit: numeral, strength: STRONG };
  if (syllable !== null) {
    const s = syllable.toLowerCase().normalize('NFC');
    const tonal = DIGIT_SYLLABLES[s];
    if (tonal !== undefined) return { digit: tonal, strength: TONAL };
    const weak = WEAK_NUMERAL_CHARS[ch] ?? TONELESS_DIGITS[toneless(s)];
    if (weak !== undefined) return { digit: weak, strength: WEAK };
    return null;
  }
  const weak = WEAK_NUMERAL_CHARS[ch];
  return weak !== undefined ? { digit: weak, strength: WEAK } : null;
}

/** The check character of an ID number (X, 叉, or its syllable). */
export function isCheckX(ch: string, syllable: string | null): boolean {
  return X_CHARS.has(ch) || (syllable !== null && X_SYLLABLES.has(syllable.toLowerCase()));
}

/** Characters that may sit inside a number read out or typed without breaking it (spaces, hyphens, fillers, commas). */
export const DIGIT_GAP_CHARS = new Set([
  ' ',
  '\u3000',
  '-',
  '－',
  '—',
  '–',
  '·',
  ',',
  '，',
  '、',
  '呃',
  '嗯',
  '啊',
  '额',
  '唔',
  '哦',
  '噢',
]);
export const MAX_GAP_CHARS = 2;
/** Characters that end a sentence: a number does not continue across them. */
export const SENTENCE_END = /[。！？!?.;；]/;

/** Text with a Han character in it. */
export const HAN = /\p{Script=Han}/u;

/** Whether one character (a code point) is Han: CJK unified ideographs and their extensions, 〇, compatibility ideographs. */
export function isHan(ch: string): boolean {
  const c = ch.codePointAt(0) ?? 0;
  return (
    (c >= 0x4e00 && c <= 0x9fff) ||
    (c >= 0x3400 && c <= 0x4dbf) ||
    c === 0x3007 ||
    (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0x20000 && c <= 0x3134f)
  );
}

/** ISO 7064 MOD 11-2 check of an 18-character resident ID number (17 digits and a check digit or X). */
export function residentIdValid(id: string): boolean {
  if (!/^[1-9]\d{16}[\dX]$/.test(id)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (id.charCodeAt(i) - 48) * (2 ** (17 - i) % 11);
  const check = (12 - (sum % 11)) % 11;
  return id[17] === (check === 10 ? 'X' : String(check));
}

/** A mainland mobile number: 11 digits, 1 then 3–9. */
export const MOBILE = /^1[3-9]\d{9}$/;

// --- cues --------------------------------------------------------------------------------------

/** Words shortly before a number that say what it is. */
export const NUMBER_CONTEXT_ZH: Record<'card' | 'phone' | 'account' | 'id' | 'digits', readonly string[]> = {
  card: ['卡号', '银行卡', '信用卡', '储蓄卡', '借记卡', '卡的号', '卡'],
  phone: ['手机', '电话', '号码', '联系方式', '座机', '热线', '微信', '打给', '拨打', '回电'],
  account: ['账号', '帐号', '账户', '帐户', '订单', '会员号', '保单', '单号', '工号', '客户号'],
  id: ['身份证', '证件', '身份', '护照', '社保', '医保'],
  digits: ['密码', '验证码', '口令', '编号', '号是', '号为'],
};
export const CONTEXT_WINDOW_CHARS = 10;
/** Units after a number that make it a quantity (价格400-500元, 24小时), not an identifier: kept unless it is a valid ID, card or phone. */
export const MEASURE_WORDS = [
  ...'元块毛角分个位岁年月日天点秒米斤克人次倍折度张间晚套件份台辆种家条本名%％',
  '小时',
  '公里',
  '千米',
  '公斤',
  '之间',
  '左右',
  '以上',
  '以下',
  '以内',
];

/**
 * Name cues and what must follow them. `any`: the next 1–3 characters are a name (我叫, 名字是);
 * `surname`: only a listed surname is taken (我姓王, 免贵姓张); `listed`: a name is taken only when it
 * starts with a surname from the unambiguous list (我是王小明 — 我是 also starts 我是想问…).
 */
export const NAME_CUES_ZH: readonly { cue: string; takes: 'any' | 'surname' | 'listed' }[] = [
  // 名字是/名叫 alone also name places and shops (名叫大运河森林公园的景点): only a person's.
  { cue: '我的名字是', takes: 'any' },
  { cue: '我的名字叫', takes: 'any' },
  { cue: '我名字是', takes: 'any' },
  { cue: '我名字叫', takes: 'any' },
  { cue: '我名叫', takes: 'any' },
  { cue: '他的名字是', takes: 'any' },
  { cue: '她的名字是', takes: 'any' },
  { cue: '姓名是', takes: 'any' },
  { cue: '姓名叫', takes: 'any' },
  { cue: '全名是', takes: 'any' },
  { cue: '全名叫', takes: 'any' },
  { cue: '我叫做', takes: 'any' },
  { cue: '我叫', takes: 'any' },
  { cue: '他叫', takes: 'any' },
  { cue: '她叫', takes: 'any' },
  { cue: '联系人是', takes: 'any' },
  { cue: '收件人是', takes: 'any' },
  { cue: '收货人是', takes: 'any' },
  { cue: '持卡人是', takes: 'any' },
  // typed form fields (a chat, an e-mail signature, an order): the colon says what 是 says
  ...['姓名', '全名', '联系人', '收件人', '收货人', '持卡人'].flatMap((field) =>
    ['：', ':'].map((colon) => ({ cue: `${field}${colon}`, takes: 'any' as const })),
  ),
  { cue: '免贵姓', takes: 'surname' },
  { cue: '我姓', takes: 'surname' },
  { cue: '他姓', takes: 'surname' },
  { cue: '她姓', takes: 'surname' },
  { cue: '您姓', takes: 'surname' },
  { cue: '姓', takes: 'surname' },
  { cue: '我是', takes: 'listed' },
  { cue: '我这边是', takes: 'listed' },
];

/** Characters that never start or continue a name after a cue: particles, pronouns, common verbs. */
export const NAME_STOP_ZH = new Set([
  ...'的了吗呢吧啊呀哦嗯呃哈是不没在想要说问和跟与及或我你您他她它们这那哪什怎么就也都还又再很太最会能可得地着过给把被让叫请谢对从到去来有打个为因所如但而且',
  ...'，。！？、,.!? ',
]);
/** After 我叫: words that mean "I called / ordered", not a name. */
export const NOT_NAME_AFTER_JIAO = ['了', '过', '车', '辆', '下', '个', '一', '外卖', '人', '醒', '做'];
/** Before 我叫: "call (a taxi) for me" (帮我叫辆车), not "I am called". */
export const NOT_NAME_BEFORE_WO_JIAO = [...'帮给替让请叫'];
/** Titles after a surname (王先生): the surname alone is the name. */
export const TITLES_ZH = [
  '先生',
  '女士',
  '小姐',
  '老师',
  '经理',
  '师傅',
  '阿姨',
  '同学',
  '总',
  '主任',
  '医生',
  '律师',
  '老板',
  '大哥',
  '大姐',
];
export const COMPOUND_SURNAMES = [
  '欧阳',
  '司马',
  '诸葛',
  '上官',
  '司徒',
  '东方',
  '皇甫',
  '夏侯',
  '慕容',
  '令狐',
  '公孙',
  '尉迟',
  '长孙',
  '宇文',
  '端木',
  '独孤',
  '南宫',
];

/**
 * Common surnames that rarely begin an ordinary word after 我是: a name after 我是 must start with
 * one of these (or 小/老 + one). Left out on purpose: surnames that start everyday words
 * (马上, 高兴, 方便, 关于, 时候, 明天, 应该, 全部, 成功, 安排, 金额, 钱, 路, 车, 白天, 常常, 于是…).
 */
export const LISTED_SURNAMES = new Set([
  ...'王李张刘陈杨黄赵吴周徐孙朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范石廖贾韦邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵严覃武戴莫孔汤康施牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹耿焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝游辛靳柴蒙鲍华喻祁蒲滕屈饶牟艾尤穆卓吉缪简项芦麦褚娄窦戚岑景党宫费卜冷晏席卫柏宗瞿桂佟臧闵苟邬卞姬栾隋刁巫寇桑郎甄丛仲虞敖巩佘池邝谌奚粟冼蔺',
]);
/** Everyday words that begin with a listed surname: after 我是 they are not a name (我是顾客, 我是余额不足, 我是江苏的). */
export const NOT_NAMES_AFTER_WO_SHI = (
  '顾客 游客 余额 费用 包月 包年 包裹 项目 简单 凌晨 严重 任何 华为 程序 周末 周一 周二 周三 周四 周五 周六 周日 黄金 许多 ' +
  '江苏 江西 苏州 宁波 尚未 符合 舒服 季度 毕业 卫生 党员 冷静 齐全 左边 武汉 毛病 谢谢 曾经 范围 颜色 辛苦 尤其 吉林 桂林 ' +
  '沈阳 郑州 徐州 韩国 罗马 石家庄 张家口 唐山 蓝色 陆续 董事 施工 康复 牛奶 秦皇岛 王者 李宁 何时 陈列 杨浦 龙岗 史上 雷同'
).split(' ');
/** All common surnames, ambiguous ones included: after 姓 a surname is certain. */
export const SURNAMES = new Set([
  ...LISTED_SURNAMES,
  ...'马高于金方白万钱向常温文安申关成路管房解时车全应和明来国信由平夏单司古连边师商沙荣乐南班储原燕楚劳皮盘满闻位厉伊区海花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿狄计索宣晋相初门云容敬都普戈伏鹿薄雍辜羊阿乌母裘修赫杭况那宿鲜印隆茹诸战慕危玉银亢公哈湛宾戎勾茅利呼居揭干但尉冶斯元束檀衣展阴智幸奉植衡富尧闭胥郁冀惠荆匡鞠官封谈苑迟查麻付',
]);

// --- addresses ---------------------------------------------------------------------------------

/** Address units: the suffix after a place name or a number, longest first. */
export const ADDRESS_SUFFIXES: readonly { suffix: string; kind: 'admin' | 'street' | 'place' | 'number' }[] = [
  { suffix: '特别行政区', kind: 'admin' },
  { suffix: '自治区', kind: 'admin' },
  { suffix: '自治州', kind: 'admin' },
  { suffix: '街道', kind: 'admin' },
  { suffix: '小区', kind: 'place' },
  { suffix: '花园', kind: 'place' },
  { suffix: '公寓', kind: 'place' },
  { suffix: '大厦', kind: 'place' },
  { suffix: '新村', kind: 'place' },
  { suffix: '家园', kind: 'place' },
  { suffix: '大街', kind: 'street' },
  { suffix: '大道', kind: 'street' },
  { suffix: '胡同', kind: 'street' },
  { suffix: '号楼', kind: 'number' },
  { suffix: '号院', kind: 'number' },
  { suffix: '单元', kind: 'number' },
  { suffix: '省', kind: 'admin' },
  { suffix: '市', kind: 'admin' },
  { suffix: '区', kind: 'admin' },
  { suffix: '县', kind: 'admin' },
  { suffix: '镇', kind: 'admin' },
  { suffix: '乡', kind: 'admin' },
  { suffix: '村', kind: 'admin' },
  { suffix: '路', kind: 'street' },
  { suffix: '街', kind: 'street' },
  { suffix: '巷', kind: 'street' },
  { suffix: '弄', kind: 'number' },
  { suffix: '号', kind: 'number' },
  { suffix: '栋', kind: 'number' },
  { suffix: '幢', kind: 'number' },
  { suffix: '座', kind: 'number' },
  { suffix: '楼', kind: 'number' },
  { suffix: '层', kind: 'number' },
  { suffix: '室', kind: 'number' },
];
/** A suffix followed by one of these is part of another word (市场, 号码, 路上, 楼下…). */
export const NOT_SUFFIX_BEFORE = [...'场民别域码线称召上下过费梯友次位城钱得份长心门口面边'];
/** Common nouns that end like an address unit but are not one (超市, 办公室, 马路, 一路…). */
export const NOT_ADDRESS_WORDS = [
  '超市',
  '城市',
  '市区',
  '地区',
  '郊区',
  '景区',
  '园区',
  '专区',
  '城区',
  '社区',
  '山区',
  '误区',
  '马路',
  '公路',
  '铁路',
  '道路',
  '走路',
  '一路',
  '思路',
  '网路',
  '出路',
  '线路',
  '套路',
  '问路',
  '电路',
  '逛街',
  '上街',
  '大楼',
  '高楼',
  '办公室',
  '会议室',
  '教室',
  '卧室',
  '浴室',
  '实验室',
  '工作室',
  '科室',
  '诊室',
  '账号',
  '帐号',
  '型号',
  '信号',
  '编号',
  '挂号',
  '符号',
  '问号',
  '句号',
  '称号',
  '座号',
  '号号',
  '全省',
  '全市',
  '全区',
  '全县',
  '各省',
  '外省',
  '本市',
  '外市',
];
/** Cues just before an address. */
export const ADDRESS_CUES = [
  '地址是',
  '地址为',
  '地址',
  '住址是',
  '住址',
  '住在',
  '家在',
  '家住',
  '寄到',
  '送到',
  '送至',
  '寄往',
  '搬到',
  '邮寄到',
];
/** Characters that do not belong to a place name (pronouns, particles, verbs before an address). */
export const ADDRESS_STOP = new Set([
  ...'的了吗呢吧啊呀哦嗯呃是不没在想要说问和跟与或我你您他她它们这那哪什怎么就也都还又再很会能可得着过给把被让请对从到去来有打个为因所但而且址住家寄送搬就',
  ...'，。！？、,.!?；; ',
]);
export const MAX_ADDRESS_PREFIX = 6;

// --- characters of the joined parts ------------------------------------------------------------

/** One character of the joined parts, with the syllable the recogniser heard for it (when known). */
export interface ZhChar {
  ch: string;
  syllable: string | null;
  /** Index of the part (utterance) it belongs to. */
  part: number;
}

/**
 * The characters of the parts in order, each with its syllable: a part's pinyin is used when it has
 * exactly one syllable per Han character of its text (the recogniser's contract); otherwise the
 * characters are read without it.
 */
export function charsOf(parts: readonly RedactionPart[]): { chars: ZhChar[]; offsets: number[] } {
  const chars: ZhChar[] = [];
  const offsets = [0];
  parts.forEach((p, partIndex) => {
    const cs = Array.from(p.text);
    const syllables = p.pinyin === undefined ? [] : p.pinyin.split(/\s+/).filter((s) => s !== '');
    let hanCount = 0;
    for (const c of cs) if (isHan(c)) hanCount++;
    const useSyllables = syllables.length > 0 && syllables.length === hanCount;
    let k = 0;
    for (const c of cs) {
      const syllable = useSyllables && isHan(c) ? syllables[k++]! : null;
      chars.push({ ch: c, syllable, part: partIndex });
    }
    offsets.push(chars.length);
  });
  return { chars, offsets };
}

const WORD_CHARS = new Map<string, string[]>();
/** A word's characters (cached: the vocabulary is fixed and small). */
function wordChars(word: string): string[] {
  let w = WORD_CHARS.get(word);
  if (w === undefined) {
    w = Array.from(word);
    if (WORD_CHARS.size < 4096) WORD_CHARS.set(word, w);
  }
  return w;
}

/** Whether the text of `chars` in [from, to) ends with `word`. */
export function endsWithWord(chars: readonly ZhChar[], to: number, word: string, from = 0): boolean {
  const w = wordChars(word);
  if (to - w.length < from) return false;
  for (let k = 0; k < w.length; k++) if (chars[to - w.length + k]!.ch !== w[k]) return false;
  return true;
}

/** Whether `word` starts at index `at`. */
export function startsWithWord(chars: readonly ZhChar[], at: number, word: string): boolean {
  const w = wordChars(word);
  if (at + w.length > chars.length) return false;
  for (let k = 0; k < w.length; k++) if (chars[at + k]!.ch !== w[k]) return false;
  return true;
}
