import { describe, expect, it } from 'vitest';
import { ibanValid, luhnValid, Redactor, type TimedWord } from '../../../appliance/privacy/redactor.js';

/** ASR-style words with 300 ms per word, so timing rewrites can be checked exactly. */
function timed(text: string): TimedWord[] {
  return text.split(' ').map((word, i) => ({ word, startMs: i * 300, endMs: i * 300 + 250 }));
}

describe('checksums', () => {
  it('Luhn', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4242424242424242')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('')).toBe(false);
    expect(luhnValid('12a4')).toBe(false);
  });
  it('IBAN mod 97', () => {
    expect(ibanValid('GB82WEST12345698765432')).toBe(true);
    expect(ibanValid('GB82WEST12345698765433')).toBe(false);
    expect(ibanValid('DE89370400440532013000')).toBe(true);
  });
});

describe('Redactor: cards', () => {
  const r = new Redactor();
  it('redacts a spoken, Luhn-valid card number and keeps the timing of the span', () => {
    const text = 'MY CARD IS FOUR ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE THANKS';
    const out = r.redact(text, timed(text));
    expect(out.text).toBe('MY CARD IS [CARD] THANKS');
    expect(out.counts.card).toBe(1);
    expect(out.total).toBe(1);
    expect(out.words.map((w) => w.word)).toEqual(['MY', 'CARD', 'IS', '[CARD]', 'THANKS']);
    // The placeholder spans from the first digit word's start to the last digit word's end.
    expect(out.words[3]).toEqual({ word: '[CARD]', startMs: 3 * 300, endMs: 18 * 300 + 250 });
    expect(out.words[4]).toEqual({ word: 'THANKS', startMs: 19 * 300, endMs: 19 * 300 + 250 });
  });

  it('finds a Luhn-valid number without any context, and in digit form', () => {
    expect(r.redact('IT IS FOUR TWO FOUR TWO FOUR TWO FOUR TWO FOUR TWO FOUR TWO FOUR TWO FOUR TWO OK').text).toBe('IT IS [CARD] OK');
    expect(r.redact('Use 4111 1111 1111 1111 please.').text).toBe('Use [CARD] please.');
    expect(r.redact('card 4111-1111-1111-1111, thanks').text).toBe('card [CARD], thanks');
    // typed digits glued to the next word by punctuation still count (the last group used to stay)
    expect(r.redact('card 4111 1111 1111 1111,thanks').text).toBe('card [CARD]');
    expect(r.redact('see 4111111111111111.pdf').text).toBe('see [CARD]');
    expect(r.redact('my card 4111 1111 1111 1111.ok?').text).not.toContain('1111');
  });

  it('accepts ASR homophones inside a digit run (FOR, TO, WON, OH)', () => {
    // 4242 4242 4242 4242 heard as "FOUR TO FOR TWO ..."
    const out = r.redact('NUMBER FOUR TO FOR TWO FOUR TWO FOUR TO FOUR TWO FOUR TWO FOUR TWO FOUR TWO DONE');
    expect(out.text).toBe('NUMBER [CARD] DONE');
  });

  it('a non-Luhn 16-digit run is still hidden (as digits) and as card after card context', () => {
    expect(r.redact('THE CODE IS ONE TWO THREE FOUR ONE TWO THREE FOUR ONE TWO THREE FOUR ONE TWO THREE FIVE').text).toBe(
      'THE CODE IS [DIGITS]',
    );
    expect(r.redact('MY CREDIT CARD ENDS IN ONE TWO THREE FOUR').text).toBe('MY CREDIT CARD ENDS IN [CARD]');
  });

  it('bridges misrecognised words between digit runs', () => {
    // "four five three two one five one one two eight ..." with "MAKE" for eight and "NEAR" for zero
    const out = r.redact('MY CARD IS FOUR FIVE THREE TWO ONE FIVE ONE ONE TWO MAKE THREE NEAR THREE SIX SIX ONE CALL ME');
    expect(out.text).toBe('MY CARD IS [CARD] CALL ME');
  });

  it('leaves ordinary number words alone', () => {
    for (const text of [
      'I HAVE TWO CHILDREN AND ONE DOG',
      'I WANT TO PAY FOR ONE MONTH',
      'IT COST FIVE HUNDRED POUNDS',
      'IN TWENTY TWENTY FOUR',
      'ONE MOMENT PLEASE',
      'I WILL BE THERE AT FIVE',
    ]) {
      const out = r.redact(text);
      expect(out.text, text).toBe(text);
      expect(out.total).toBe(0);
    }
  });
});

describe('Redactor: phone numbers', () => {
  const r = new Redactor();
  it('spoken with context, with DOUBLE and OH', () => {
    expect(r.redact('CALL ME ON OH SEVEN SEVEN DOUBLE OH NINE ONE TWO THREE FOUR FIVE').text).toBe('CALL ME ON [PHONE]');
    expect(r.redact('MY MOBILE IS FIVE FIVE FIVE EIGHT SIX SEVEN FIVE THREE ZERO NINE').text).toBe('MY MOBILE IS [PHONE]');
  });
  it('typed forms', () => {
    expect(r.redact('ring +44 20 7946 0018 tomorrow').text).toBe('ring [PHONE] tomorrow');
    expect(r.redact('ring (020) 7946 0018 tomorrow').text).toBe('ring [PHONE] tomorrow');
    expect(r.redact('or 07700900123').text).toBe('or [PHONE]');
  });
  it('typed straight after a label and its colon, as in an e-mail signature', () => {
    expect(r.redact('Tel:+442079460958').text).toBe('[PHONE]');
    expect(r.redact('Mobile:07700900123, office hours only').text).toBe('[PHONE], office hours only');
    expect(r.redact('Phone:+1-555-123-4567').text).toBe('[PHONE]');
    // the country code glued to the label goes with the rest of the number
    expect(r.redact('Tel:+44 20 7946 0958').text).toBe('[PHONE]');
    expect(r.redact('card:4111111111111111').text).toBe('[CARD]');
    // a short number after a label is no personal data
    expect(r.redact('meet in Room:12 today').text).toBe('meet in Room:12 today');
  });
  it('glued to a name or handle by a dash or underscore, also in a file name', () => {
    expect(r.redact('call me on john-07700900123').text).toBe('call me on [PHONE]');
    expect(r.redact('whatsapp_07700900123 please').text).toBe('[PHONE] please');
    expect(r.redact('zhangsan-13800138000.pdf').text).toBe('[DIGITS]');
    // short numbers and codes with letters stay
    expect(r.redact('see page-12 and flight BA-287').text).toBe('see page-12 and flight BA-287');
  });
  it('PLUS spoken', () => {
    expect(r.redact('IT IS PLUS FOUR FOUR SEVEN SEVEN ZERO ZERO NINE ZERO ZERO ONE TWO THREE').text).toBe('IT IS [PHONE]');
  });
});

describe('Redactor: full-width forms in typed text', () => {
  // An IME's full-width mode types ０-９ and ＠ in otherwise English text (a chat, an e-mail).
  const r = new Redactor();
  it('full-width digits are digits: a card, a phone number, a digit run', () => {
    expect(r.redact('card ４１１１ １１１１ １１１１ １１１１ thanks').text).toBe('card [CARD] thanks');
    expect(r.redact('my number is ＋４４ ２０ ７９４６ ０９５８').text).toBe('my number is [PHONE]');
    expect(r.redact('my number is １３８００１３８０００').text).not.toContain('１３８');
    expect(r.redact('my ssn is １２３-４５-６７８９').text).toBe('my ssn is [ID]');
  });

  it('a full-width at sign still makes an address', () => {
    expect(r.redact('mail ｊｏｈｎ＠example.com now').text).toBe('mail [EMAIL] now');
  });
});

describe('Redactor: e-mail addresses', () => {
  const r = new Redactor();
  it('spoken plus-addressing: the words before PLUS are the address too', () => {
    expect(r.redact('IT IS JANE PLUS NEWS AT EXAMPLE DOT COM').text).toBe('IT IS [EMAIL]');
    const out = r.redact('ITS MARY DOT JONES PLUS BANK AT GMAIL DOT COM THANKS');
    expect(out.text).toBe('ITS [EMAIL] THANKS');
    expect(out.counts.email).toBe(1);
    // a phone number read with PLUS is still a phone number
    expect(r.redact('MY NUMBER IS PLUS FOUR FOUR SEVEN SEVEN ZERO ZERO NINE ZERO ZERO ONE TWO THREE').text).toBe('MY NUMBER IS [PHONE]');
  });

  it('a typed address inside brackets, after mailto: or a label, or next to another is still found', () => {
    expect(r.redact('write to me (jane@example.com) please').text).toBe('write to me [EMAIL] please');
    expect(r.redact('mailto:jane.doe+bank@example.com').text).toBe('[EMAIL]');
    expect(r.redact('Email:jane@example.com').text).toBe('[EMAIL]');
    expect(r.redact('cc jane@example.com;bob@example.org thanks').text).toBe('cc [EMAIL] thanks');
    expect(r.redact('[jane@example.com], thanks').text).toBe('[EMAIL], thanks');
    // an @ alone, a handle or a domain without a dot is no address
    expect(r.redact('ask @support or me@home').text).toBe('ask @support or me@home');
  });

  it('spoken', () => {
    const out = r.redact('MY EMAIL IS JOHN DOT SMITH AT EXAMPLE DOT COM THANK YOU');
    expect(out.text).toBe('MY EMAIL IS [EMAIL] THANK YOU');
    expect(out.counts.email).toBe(1);
    expect(r.redact('IT IS MARY UNDERSCORE JONES AT GMAIL DOT CO DOT UK').text).toBe('IT IS [EMAIL]');
    expect(r.redact('SEND IT TO PETER AT YAHOO DOTCOM').text).toBe('SEND IT TO [EMAIL]');
  });
  it('with a misheard AT before a complete domain', () => {
    expect(r.redact('EMAIL ME JOHN AND EXAMPLE DOT COM').text).toBe('EMAIL ME [EMAIL]');
  });
  it('typed', () => {
    expect(r.redact('mail john.smith@example.com, or call').text).toBe('mail [EMAIL], or call');
  });
  it('AT without a domain is not an address', () => {
    expect(r.redact('I AM AT HOME NOW').text).toBe('I AM AT HOME NOW');
    expect(r.redact('LOOK AT THE WEBSITE').text).toBe('LOOK AT THE WEBSITE');
  });
});

describe('Redactor: accounts, IDs, digit runs', () => {
  const r = new Redactor();
  it('account numbers after account context, IBANs typed', () => {
    expect(r.redact('MY ACCOUNT NUMBER IS TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE').text).toBe('MY ACCOUNT NUMBER IS [ACCOUNT]');
    expect(r.redact('SORT CODE TWENTY ONE TWELVE THIRTEEN').text).toBe('SORT CODE [ACCOUNT]');
    expect(r.redact('iban GB82WEST12345698765432 ok').text).toBe('iban [ACCOUNT] ok');
    expect(r.redact('iban GB82 WEST 1234 5698 7654 32 ok').text).toBe('iban [ACCOUNT] ok');
  });
  it('national IDs', () => {
    expect(r.redact('ssn 078-05-1120 on file').text).toBe('ssn [ID] on file');
    expect(r.redact('NI number QQ123456C').text).toBe('NI number [ID]');
    expect(r.redact('MY SOCIAL SECURITY NUMBER IS ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE').text).toBe(
      'MY SOCIAL SECURITY NUMBER IS [ID]',
    );
  });
  it('long digit sequences without context', () => {
    expect(r.redact('IT WAS IN THE LETTER NINE EIGHT SEVEN SIX FIVE FOUR OK').text).toBe('IT WAS IN THE LETTER [DIGITS] OK');
    expect(r.redact('IN TWENTY TWENTY FOUR WE PAID ABOUT FIVE HUNDRED').total).toBe(0);
    // Digits read out one by one: a PIN or a fragment of a longer number.
    expect(r.redact('MY PIN IS FOUR ONE ONE ONE').text).toBe('MY PIN IS [DIGITS]');
    expect(r.redact('IT ENDS WITH ONE TWO THREE').total).toBe(0);
  });
  it('partials hide shorter runs that may still grow', () => {
    expect(r.redactPartial('MY NUMBER IS FOUR ONE ONE ONE').text).toBe('MY NUMBER IS [DIGITS]');
    expect(r.redactPartial('MY NUMBER IS FOUR ONE ONE').text).toBe('MY NUMBER IS FOUR ONE ONE');
  });
});

describe('Redactor: names', () => {
  const r = new Redactor();
  it('after a typed field label with a colon: Name:, Full name:, Surname:', () => {
    expect(r.redact('Name: John Smith').text).toBe('Name: [NAME]');
    expect(r.redact('Full name: Mary Anne Jones').text).toBe('Full name: [NAME]');
    expect(r.redact('Surname: Okafor, thanks').text).toBe('Surname: [NAME], thanks');
    // the next field's label ends the name
    expect(r.redact('Name: Jane Doe Phone: 07700900123').text).toBe('Name: [NAME] Phone: [PHONE]');
    expect(r.redact('my name is John Smith: thanks').text).toBe('my name is [NAME]: thanks');
    // a name without its colon is an ordinary word
    expect(r.redact('what name should I use').text).toBe('what name should I use');
  });

  it('after MY NAME IS and similar phrases, stopping at ordinary words', () => {
    const text = 'HI MY NAME IS JOHN SMITH AND I AM CALLING ABOUT MY BILL';
    const out = r.redact(text, timed(text));
    expect(out.text).toBe('HI MY NAME IS [NAME] AND I AM CALLING ABOUT MY BILL');
    expect(out.words[4]).toEqual({ word: '[NAME]', startMs: 4 * 300, endMs: 5 * 300 + 250 });
    expect(r.redact("MY NAME'S SARAH").text).toBe("MY NAME'S [NAME]");
    expect(r.redact('YOU ARE SPEAKING WITH PRIYA HOW CAN I HELP').text).toBe('YOU ARE SPEAKING WITH [NAME] HOW CAN I HELP');
    expect(r.redact('MY NAME IS UM MARY ANNE JONES SMITH').text).toBe('MY NAME IS UM [NAME] SMITH');
  });
  it('spelled names', () => {
    expect(r.redact('MY SURNAME IS S M I T H THANKS').text).toBe('MY SURNAME IS [NAME] THANKS');
  });
  it('no name after the trigger', () => {
    expect(r.redact('THE NAME IS ON THE CARD').text).toBe('THE NAME IS ON THE CARD');
  });
});

describe('Redactor: configuration and contract', () => {
  it('redacts only the configured categories', () => {
    const r = new Redactor({ categories: ['email'] });
    const out = r.redact(
      'MY NAME IS JOHN AND MY EMAIL IS JOHN AT EXAMPLE DOT COM AND MY CARD IS FOUR ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE',
    );
    expect(out.text).toBe(
      'MY NAME IS JOHN AND MY EMAIL IS [EMAIL] AND MY CARD IS FOUR ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE',
    );
    expect(new Redactor({ categories: [] }).redact('MY NAME IS JOHN').text).toBe('MY NAME IS JOHN');
  });

  it('counts several categories in one text and keeps cumulative totals', () => {
    const r = new Redactor();
    const text =
      'MY NAME IS JOHN SMITH MY EMAIL IS JOHN DOT SMITH AT EXAMPLE DOT COM CALL ME ON OH SEVEN SEVEN OH OH NINE OH OH ONE TWO THREE AND MY CARD IS FOUR ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE ONE';
    const out = r.redact(text, timed(text));
    expect(out.counts).toEqual({ card: 1, phone: 1, email: 1, account: 0, digits: 0, id: 0, name: 1, address: 0 });
    expect(out.text).toBe('MY NAME IS [NAME] MY EMAIL IS [EMAIL] CALL ME ON [PHONE] AND MY CARD IS [CARD]');
    expect(out.words.map((w) => w.word).join(' ')).toBe(out.text);
    r.redact('MY NAME IS ANNA');
    expect(r.totals.name).toBe(2);
    expect(r.totals.card).toBe(1);
  });

  it('redacts a word list that does not align with the text on its own', () => {
    const r = new Redactor();
    const words = timed('MY NAME IS JOHN');
    const out = r.redact('my name is John.', words);
    expect(out.text).toBe('my name is [NAME].');
    expect(out.words.map((w) => w.word)).toEqual(['MY', 'NAME', 'IS', '[NAME]']);
  });

  it('returns copies and leaves inputs untouched; empty text is fine', () => {
    const r = new Redactor();
    const words = timed('HELLO THERE');
    const out = r.redact('HELLO THERE', words);
    expect(out.words).toEqual(words);
    expect(out.words[0]).not.toBe(words[0]);
    expect(r.redact('').text).toBe('');
    expect(r.redact('   ').total).toBe(0);
  });

  it('never leaves a planted value in text or words (property over generated utterances)', () => {
    const r = new Redactor();
    const spokenDigit = ['ZERO', 'ONE', 'TWO', 'THREE', 'FOUR', 'FIVE', 'SIX', 'SEVEN', 'EIGHT', 'NINE'];
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let k = 0; k < 200; k++) {
      // A random Luhn-valid 16-digit number.
      const body = Array.from({ length: 15 }, () => rand(10));
      let check = 0;
      for (let c = 0; c < 10; c++) if (luhnValid(body.join('') + c)) check = c;
      const digits = [...body, check];
      const spoken = digits.map((d) => spokenDigit[d]).join(' ');
      const text = `YES ${['MY CARD IS', 'IT IS', 'THE NUMBER IS'][rand(3)]} ${spoken} THANK YOU`;
      const out = r.redact(text, timed(text));
      expect(out.text, text).not.toContain(spokenDigit[digits[5]!]! + ' ' + spokenDigit[digits[6]!]!);
      expect(out.text).toContain('[CARD]');
      expect(out.words.some((w) => spokenDigit.includes(w.word))).toBe(false);
    }
  });
});

describe('Redactor: across utterances', () => {
  it("redactJoined finds a value split across parts, leaves its placeholder in each with that part's timing, and counts it once", () => {
    const r = new Redactor();
    const a = 'MY CARD IS FOUR ONE ONE ONE';
    const b = 'ONE ONE ONE ONE ONE ONE ONE ONE';
    const c = 'ONE ONE ONE ONE THANKS';
    const out = r.redactJoined([
      { text: a, words: timed(a) },
      { text: b, words: timed(b) },
      { text: c, words: timed(c) },
    ]);
    expect(out.map((o) => o.text)).toEqual(['MY CARD IS [CARD]', '[CARD]', '[CARD] THANKS']);
    expect(out[0]!.words[3]).toEqual({ word: '[CARD]', startMs: 3 * 300, endMs: 6 * 300 + 250 });
    expect(out[1]!.words).toEqual([{ word: '[CARD]', startMs: 0, endMs: 7 * 300 + 250 }]);
    expect(out.map((o) => o.total)).toEqual([1, 0, 0]);
    expect(r.totals.card).toBe(1);
    // The same pieces one by one: the later ones are not known to be part of a card.
    expect([a, b, c].map((t) => new Redactor().redact(t).text)).toEqual(['MY CARD IS [CARD]', '[DIGITS]', '[DIGITS] THANKS']);
    expect(new Redactor().redact('ONE ONE THANKS').text).toBe('ONE ONE THANKS');
  });

  it('a digit run that crosses a pause is redacted even when short; ordinary words across a pause are not', () => {
    const r = new Redactor();
    expect(r.redactJoined([{ text: 'ONE' }, { text: 'TWO THREE OK' }]).map((o) => o.text)).toEqual(['[DIGITS]', '[DIGITS] OK']);
    expect(r.redactJoined([{ text: 'I HAVE TWO' }, { text: 'FOR THE KIDS' }]).map((o) => o.text)).toEqual(['I HAVE TWO', 'FOR THE KIDS']);
  });

  it('openEnding: digit runs, name and e-mail cues that the next utterance may continue', () => {
    const r = new Redactor();
    expect(r.openEnding('FOUR ONE ONE ONE')).toBe('digits');
    expect(r.openEnding('ONE')).toBe('digits');
    expect(r.openEnding('MY CARD NUMBER IS FOUR')).toBe('digits');
    expect(r.openEnding('MY PIN IS FOUR UM')).toBe('digits');
    expect(r.openEnding('THE CODE IS FOUR FIVE')).toBe('digits');
    expect(r.openEnding('HELLO MY NAME IS')).toBe('name');
    expect(r.openEnding('MY NAME IS JOHN')).toBe('name');
    expect(r.openEnding('MY EMAIL ADDRESS IS')).toBe('email');
    expect(r.openEnding('MY EMAIL IS MARY DOT JONES')).toBe('email');
    for (const closed of [
      'I HAVE TWO',
      'I WENT TO',
      'CALL ME ON FOR',
      'MY NAME IS JOHN AND I NEED HELP',
      'THANK YOU',
      'LOOK AT',
      '',
      'MY CARD IS LOST I NEED A NEW ONE',
      'HOW LONG TO GET A NEW CARD IN THE MAIL',
      'MY EMAIL',
      'MY NAME IS JOHN SMITH',
    ])
      expect(r.openEnding(closed), closed).toBeNull();
    expect(new Redactor({ categories: ['email'] }).openEnding('FOUR ONE ONE ONE')).toBeNull();
  });

  it('redactPartial with held finals as context masks what continues them', () => {
    const r = new Redactor();
    expect(r.redactPartial('ONE', ['FOUR ONE ONE ONE']).text).toBe('[DIGITS]');
    expect(r.redactPartial('SMITH', ['MY NAME IS JOHN']).text).toBe('[NAME]');
    expect(r.redactPartial('AT EXAMPLE DOT', ['MY EMAIL IS MARY DOT JONES']).text).toBe('[EMAIL]');
    expect(r.redactPartial('THANK YOU', ['FOUR ONE ONE ONE']).text).toBe('THANK YOU');
  });
});

describe('Redactor: addresses after an e-mail cue', () => {
  const r = new Redactor();
  it('redacts the words after "MY EMAIL IS" even when the domain was not recognised', () => {
    expect(r.redact('MY EMAIL IS MARY NARK JONEFUL NOT COME AND CAN YOU').text).toBe('MY EMAIL IS [EMAIL] NOT COME AND CAN YOU');
    expect(r.redact("MY E-MAIL ADDRESS IT'S PETER UNDERSCORE PAN AT").text).toBe("MY E-MAIL ADDRESS IT'S [EMAIL]");
    expect(r.redact('MY EMAIL IS JOHN DOT SMITH AT EXAMPLE DOT COM THANK YOU').text).toBe('MY EMAIL IS [EMAIL] THANK YOU');
  });
  it('needs the cue and a copula', () => {
    expect(r.redact('I SENT YOU AN EMAIL YESTERDAY ABOUT MY BILL').total).toBe(0);
    expect(r.redact('THE EMAIL IS NOT WORKING').total).toBe(0);
  });
});
