/**
 * What e-mail intake needs from a raw RFC 5322 message, through mailparser's simpleParser (a
 * well-kept MIME library: encodings, charsets, encoded words, nested parts, HTML to text): the reply
 * address, the Message-IDs it threads under, the subject and the text (the plain part, else the HTML
 * part turned into text). The size of the whole message is bounded before it gets here (SMTP SIZE and
 * the DATA stream, emailIntake.ts); the text is cut to `maxTextChars`.
 */
import { simpleParser, type AddressObject } from 'mailparser';

export interface ParsedMail {
  readonly subject: string;
  /** The address replies go to (Reply-To, else From), lower-cased; null when there is none. */
  readonly replyAddress: string | null;
  /** The sender's address (From), lower-cased; null when there is none. */
  readonly fromAddress: string | null;
  readonly messageId: string | null;
  /** In-Reply-To then References, without duplicates: the ids of the thread this mail answers. */
  readonly threadIds: readonly string[];
  /** References as the sender wrote them (for the References of a reply). */
  readonly references: readonly string[];
  /** The text the customer wrote (not redacted: the caller redacts before storing). */
  readonly text: string;
}

/** `<id@host>` tokens of a header value (or values), without the angle brackets. */
export function messageIds(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  const all = typeof value === 'string' ? value : value.join(' ');
  return [...all.matchAll(/<?([^<>\s]{1,250}@[^<>\s]{1,250})>?/g)].map((m) => m[1]!);
}

function firstAddress(a: AddressObject | AddressObject[] | undefined): string | null {
  const list = a === undefined ? [] : Array.isArray(a) ? a : [a];
  for (const o of list)
    for (const v of o.value) {
      const addr = v.address?.trim().toLowerCase();
      if (addr !== undefined && /^[^\s@<>]+@[^\s@<>]+$/.test(addr)) return addr;
    }
  return null;
}

/** Parse a raw message into what a case needs (malformed MIME gives what could be read, never throws on content). */
export async function parseMail(raw: Buffer, maxTextChars: number): Promise<ParsedMail> {
  const m = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true, maxHtmlLengthToParse: raw.length });
  const from = firstAddress(m.from);
  const replyTo = firstAddress(m.replyTo);
  const inReplyTo = messageIds(m.inReplyTo);
  const references = messageIds(m.references);
  const text = (m.text ?? '').replace(/\r\n?/g, '\n').trim();
  return {
    subject: (m.subject ?? '').replace(/[\r\n\t]+/g, ' ').trim(),
    replyAddress: replyTo ?? from,
    fromAddress: from,
    messageId: messageIds(m.messageId)[0] ?? null,
    threadIds: [...new Set([...inReplyTo, ...references])],
    references,
    text: text.slice(0, maxTextChars),
  };
}
