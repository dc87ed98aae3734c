/**
 * Chinese postal addresses in a transcript: chains of address units, each a place name or a
 * number followed by its suffix (北京市 朝阳区 建国路 88号 3栋 2单元 401室).
 *
 * A chain is an address when it is specific enough to find a home: two or more units with a
 * numbered unit or a named estate among them (建国路88号, 三号楼二单元, 朝阳区幸福小区), three or more
 * with a street (北京市朝阳区建国路), or any unit right after an address cue (我住在朝阳区…,
 * 地址是…). A city or district alone (我在上海市), or a shop's street (中关村南大街店), is not.
 * Linear scan; no regular expression backtracking on hostile input.
 */
import {
  ADDRESS_CUES,
  ADDRESS_STOP,
  ADDRESS_SUFFIXES,
  MAX_ADDRESS_PREFIX,
  NOT_ADDRESS_WORDS,
  NOT_SUFFIX_BEFORE,
  digitOf,
  endsWithWord,
  isHan,
  startsWithWord,
  type ZhChar,
} from './spokenPiiZh.js';

type UnitKind = 'admin' | 'street' | 'place' | 'number';

interface Unit {
  start: number;
  end: number;
  kind: UnitKind;
}

/** An address found: its span, whether a cue announced it, and whether it is complete enough to redact. */
export interface AddressChain {
  start: number;
  end: number;
  cued: boolean;
  units: number;
  /** Specific enough to redact (see the module comment). */
  address: boolean;
}

/** Characters of a number inside an address (三, 88, Ａ, 十二): digits, 十百千, Latin letters. */
function numberish(c: ZhChar): boolean {
  if ('十百千两'.includes(c.ch) || /^[A-Za-zＡ-Ｚａ-ｚ]$/.test(c.ch)) return true;
  const d = digitOf(c.ch, null);
  return d !== null && d.strength === 3;
}

function prefixChar(c: ZhChar): boolean {
  return !ADDRESS_STOP.has(c.ch) && (isHan(c.ch) || numberish(c));
}

const NOT_ADDRESS_BY_LAST = new Map<string, string[]>();
for (const w of NOT_ADDRESS_WORDS) NOT_ADDRESS_BY_LAST.set(w[w.length - 1]!, [...(NOT_ADDRESS_BY_LAST.get(w[w.length - 1]!) ?? []), w]);
const SUFFIX_FIRST = new Set(ADDRESS_SUFFIXES.map((s) => s.suffix[0]!));

/** The longest address suffix at `i`, unless it begins another word there (市场, 号码). */
function suffixAt(chars: readonly ZhChar[], i: number): { length: number; kind: UnitKind } | null {
  if (!SUFFIX_FIRST.has(chars[i]!.ch)) return null;
  for (const s of ADDRESS_SUFFIXES) {
    if (!startsWithWord(chars, i, s.suffix)) continue;
    const length = s.suffix.length; // all suffixes are BMP characters
    const next = chars[i + length]?.ch;
    if (length === 1 && next !== undefined && NOT_SUFFIX_BEFORE.includes(next)) continue;
    return { length, kind: s.kind };
  }
  return null;
}

/**
 * The unit ending with the suffix at [i, i+length): its prefix runs back over place-name or number
 * characters, not past `floor` (the previous unit of the chain, or a taken character).
 */
function unitAt(chars: readonly ZhChar[], i: number, length: number, kind: UnitKind, floor: number, afterAdmin = false): Unit | null {
  let start = i;
  while (start > floor && i - start < MAX_ADDRESS_PREFIX && prefixChar(chars[start - 1]!)) start--;
  if (start === i) return null;
  const end = i + length;
  // straight after a city or province, a district is one even when its name ends like a noun (深圳市南山区: 山区)
  const district = afterAdmin && start === floor && kind === 'admin';
  if (!district) for (const w of NOT_ADDRESS_BY_LAST.get(chars[end - 1]!.ch) ?? []) if (endsWithWord(chars, end, w, start)) return null;
  const allNumber = chars.slice(start, i).every(numberish);
  if (kind === 'number') {
    // A number unit needs a number (88号, 三栋); 手机号, 大楼 are not units. Take only the number.
    let s = i;
    while (s > start && numberish(chars[s - 1]!)) s--;
    return s < i ? { start: s, end, kind } : null;
  }
  // "一路", "三区" alone are ordinary words or too vague; place names have letters.
  if (allNumber) return null;
  return { start, end, kind };
}

function cuedAt(chars: readonly ZhChar[], start: number): boolean {
  return ADDRESS_CUES.some((c) => endsWithWord(chars, start, c));
}

/** Address chains in `chars`, not overlapping taken characters. */
export function findAddressChains(chars: readonly ZhChar[], taken: Uint8Array): AddressChain[] {
  const chains: AddressChain[] = [];
  let current: { start: number; end: number; units: Unit[] } | null = null;
  const close = () => {
    if (current === null) return;
    const { start, units } = current;
    let end = current.end;
    // A bare number after the last unit (…2单元401) is the flat number.
    while (end < chars.length && !taken[end] && numberish(chars[end]!) && end - current.end < 6) end++;
    const cued = cuedAt(chars, start);
    // A number or an estate pins a home down; a street does with a district or city before it.
    const pinned = units.some((u) => u.kind === 'number' || u.kind === 'place');
    const street = units.some((u) => u.kind === 'street');
    chains.push({ start, end, cued, units: units.length, address: cued || (units.length >= 2 && pinned) || (units.length >= 3 && street) });
    current = null;
  };
  let i = 0;
  while (i < chars.length) {
    if (taken[i]) {
      close();
      i++;
      continue;
    }
    const suffix = suffixAt(chars, i);
    if (suffix === null) {
      i++;
      continue;
    }
    let floor = Math.max(current !== null ? current.end : 0, i - MAX_ADDRESS_PREFIX);
    for (let k = i - 1; k >= floor; k--)
      if (taken[k]) {
        floor = k + 1;
        break;
      }
    const previous = current?.units[current.units.length - 1];
    const afterAdmin = current !== null && current.end === floor && previous?.kind === 'admin';
    const unit = unitAt(chars, i, suffix.length, suffix.kind, floor, afterAdmin);
    if (unit === null && current !== null && current.end === i && (suffix.kind === 'street' || suffix.kind === 'place')) {
      // a street or estate named after the unit before it (中关村 + 大街, 七宝镇 + 花园): one unit
      const last = current.units[current.units.length - 1]!;
      last.end = i + suffix.length;
      last.kind = suffix.kind;
      current.end = last.end;
      i = last.end;
      continue;
    }
    if (unit === null) {
      i += suffix.length;
      continue;
    }
    if (current !== null && unit.start !== current.end) close();
    if (current === null) current = { start: unit.start, end: unit.end, units: [unit] };
    else {
      current.end = unit.end;
      current.units.push(unit);
    }
    i = unit.end;
  }
  close();
  return chains;
}

/** Whether the characters end with a cue that an address follows (…地址是, …我住在); a bare 地址 (…的地址) asks for one. */
export function endsWithAddressCue(chars: readonly ZhChar[], end: number): boolean {
  const last = chars[chars.length - 1]?.ch;
  if (last === '？' || last === '?') return false;
  return ADDRESS_CUES.some((c) => c !== '地址' && c !== '住址' && endsWithWord(chars, end, c));
}
