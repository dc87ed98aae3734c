/**
 * Which speech language a call is transcribed in. It is fixed when the call starts, from the first
 * of: the queue (skill group) of the dialled number, the dialled number (sip.dids), the trunk the
 * call came from (sip.trunks, matched by address), the site default (asr.language). A queue the
 * call is routed to later does not change it: the legs' transcribers are already running.
 */
import type { LanguageChoice } from '../asr/language.js';
import { parseNameAddr } from '../sip/grammar.js';

/** Where a call's language came from. */
export type LanguageOrigin = 'queue' | 'did' | 'trunk' | 'site';

export interface CallLanguage {
  readonly choice: LanguageChoice;
  readonly from: LanguageOrigin;
}

export interface LanguageSources {
  readonly siteDefault: LanguageChoice;
  readonly trunks: readonly { readonly host: string; readonly language?: LanguageChoice | undefined }[];
  readonly dids: readonly {
    readonly number: string;
    readonly language?: LanguageChoice | undefined;
    readonly queue?: string | undefined;
  }[];
  /** The language a skill group (queue) asks for, if it has one (read when the call starts). */
  queueLanguage(groupId: string): LanguageChoice | undefined;
}

/** Where a call comes from, as far as its language is concerned (PII: used here, never stored). */
export interface CallOrigin {
  /** The signalling peer's address (an IP literal). */
  readonly remoteAddress?: string | undefined;
  /** The dialled number, normalised by dialledNumber(). */
  readonly dialled?: string | undefined;
}

/** The language of a new call: queue > dialled number > trunk > site default. */
export function resolveCallLanguage(sources: LanguageSources, origin: CallOrigin): CallLanguage {
  const did = origin.dialled === undefined ? undefined : sources.dids.find((d) => d.number === origin.dialled);
  const queue = did?.queue === undefined ? undefined : sources.queueLanguage(did.queue);
  if (queue !== undefined) return { choice: queue, from: 'queue' };
  if (did?.language !== undefined) return { choice: did.language, from: 'did' };
  const trunk = origin.remoteAddress === undefined ? undefined : sources.trunks.find((t) => t.host === origin.remoteAddress);
  if (trunk?.language !== undefined) return { choice: trunk.language, from: 'trunk' };
  return { choice: sources.siteDefault, from: 'site' };
}

/**
 * The dialled number of a To header value (`<sip:+49 30 999-000@host;user=phone>`, a tel: URI):
 * its user part without visual separators (space, - . ( )); undefined when it is not a number.
 */
export function dialledNumber(to: string): string | undefined {
  const user = parseNameAddr(to)?.uri.user;
  if (user === undefined) return undefined;
  const number = decodeUser(user).replace(/[\s().-]/g, '');
  return /^\+?[0-9]{2,20}$/.test(number) ? number : undefined;
}

function decodeUser(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}
