import { describe, expect, it } from 'vitest';
import { parseNameAddr, parseUri, parseVia, parseCSeq } from '../../../appliance/sip/grammar.js';
import { SipHeaders, splitHeaderList } from '../../../appliance/sip/message.js';
import { canAddressResponse, DEFAULT_SIP_LIMITS, parseSipMessage } from '../../../appliance/sip/parser.js';
import { buildResponse, serializeSipMessage, tagOf } from '../../../appliance/sip/serialize.js';
import { SipStreamFramer } from '../../../appliance/sip/framer.js';
import { invite, sip, SDP_OFFER } from './fixtures.js';

function must(buf: Buffer, datagram = true) {
  const r = parseSipMessage(buf, DEFAULT_SIP_LIMITS, datagram);
  if (!r.ok) throw new Error(r.reason);
  return r.message;
}

describe('SIP parser', () => {
  it('parses an INVITE with SDP', () => {
    const m = must(invite());
    expect(m.kind).toBe('request');
    if (m.kind !== 'request') return;
    expect(m.method).toBe('INVITE');
    expect(m.headers.get('CALL-ID')).toBe('call-1@127.0.0.1');
    expect(m.body.toString()).toBe(SDP_OFFER);
  });

  it('understands compact header forms and multi-value headers', () => {
    const m = must(
      sip([
        'OPTIONS sip:x@127.0.0.1 SIP/2.0',
        'v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa, SIP/2.0/TCP 10.0.0.2;branch=z9hG4bKb',
        'Via: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKc',
        'f: <sip:a@b>;tag=1',
        't: <sip:c@d>',
        'i: abc',
        'CSeq: 7 OPTIONS',
        'k: timer, replaces',
        'm: "Doe, J" <sip:j@e>;q=0.5, <sip:k@f>',
        'l: 0',
      ]),
    );
    expect(m.headers.getAll('via')).toHaveLength(3);
    expect(parseVia(m.headers.getAll('via')[1]!)).toMatchObject({ transport: 'TCP', host: '10.0.0.2', branch: 'z9hG4bKb' });
    expect(m.headers.getAll('contact')).toEqual(['"Doe, J" <sip:j@e>;q=0.5', '<sip:k@f>']);
    expect(m.headers.getAll('supported')).toEqual(['timer', 'replaces']);
    expect(m.headers.get('call-id')).toBe('abc');
  });

  it('unfolds continuation lines', () => {
    const m = must(
      sip([
        'OPTIONS sip:x@h SIP/2.0',
        'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
        'From: <sip:a@b>;',
        ' tag=9',
        'To: <sip:c@d>',
        'Call-ID: x',
        'CSeq: 1 OPTIONS',
        'Content-Length: 0',
      ]),
    );
    expect(tagOf(m.headers.get('from'))).toBe('9');
  });

  it('parses responses', () => {
    const m = must(
      sip([
        'SIP/2.0 180 Ringing',
        'Via: SIP/2.0/UDP h;branch=z9hG4bK1',
        'From: <sip:a@b>;tag=1',
        'To: <sip:c@d>;tag=2',
        'Call-ID: x',
        'CSeq: 1 INVITE',
        'Content-Length: 0',
      ]),
    );
    expect(m).toMatchObject({ kind: 'response', status: 180, reason: 'Ringing' });
  });

  it.each([
    [
      'missing Call-ID',
      invite()
        .toString()
        .replace(/Call-ID: .*\r\n/, ''),
      'missing call-id header',
      false,
    ],
    [
      'CSeq method mismatch',
      invite().toString().replace('CSeq: 1 INVITE', 'CSeq: 1 BYE'),
      'CSeq method does not match request method',
      true,
    ],
    ['bad CSeq', invite().toString().replace('CSeq: 1 INVITE', 'CSeq: abc INVITE'), 'bad CSeq header', false],
    ['no branch', invite().toString().replace(';branch=z9hG4bK-test-1', ''), 'Via without branch', true],
    [
      'short body',
      invite()
        .toString()
        .replace(/Content-Length: \d+/, 'Content-Length: 9999'),
      'body shorter than Content-Length',
      true,
    ],
    [
      'bad Content-Length',
      invite()
        .toString()
        .replace(/Content-Length: \d+/, 'Content-Length: -1'),
      'bad Content-Length',
      true,
    ],
    ['bad request URI', invite().toString().replace('INVITE sip:edgevox@127.0.0.1:5060', 'INVITE http://x'), 'bad Request-URI', true],
    ['two Contacts on INVITE', invite({ extra: ['Contact: <sip:b@c>'] }).toString(), 'INVITE needs exactly one Contact', true],
    [
      'bad From',
      invite().toString().replace('From: "Alice" <sip:+15550100@127.0.0.1:5070>;tag=a1', 'From: <nope'),
      'bad From header',
      true,
    ],
    ['header without colon', invite().toString().replace('Max-Forwards: 70', 'Max-Forwards 70'), 'header line without colon', false],
    ['bare LF', invite().toString().replace('Max-Forwards: 70\r\n', 'Max-Forwards: 70\n'), 'bare CR or LF in headers', false],
  ])('rejects %s with 400', (_name, text, reason, addressable) => {
    const r = parseSipMessage(Buffer.from(text, 'latin1'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.status).toBe(400);
    expect(r.reason).toBe(reason);
    expect(canAddressResponse(r)).toBe(addressable);
  });

  it('answers an unknown SIP version with 505 and oversize with 413', () => {
    const v = parseSipMessage(Buffer.from(invite().toString().replace('5060 SIP/2.0', '5060 SIP/3.0')));
    expect(v).toMatchObject({ ok: false, status: 505 });
    const big = parseSipMessage(Buffer.alloc(70_000, 0x41));
    expect(big).toMatchObject({ ok: false, status: 413 });
    const many = parseSipMessage(invite({ extra: Array.from({ length: 200 }, (_, i) => `X-H${i}: v`) }));
    expect(many).toMatchObject({ ok: false, status: 413, reason: 'too many headers' });
  });

  it('requires Content-Length on a stream frame but not on a datagram', () => {
    const text = invite({ body: '' })
      .toString()
      .replace(/Content-Length: \d+\r\n/, '');
    expect(parseSipMessage(Buffer.from(text), DEFAULT_SIP_LIMITS, true).ok).toBe(true);
    expect(parseSipMessage(Buffer.from(text), DEFAULT_SIP_LIMITS, false)).toMatchObject({
      ok: false,
      reason: 'Content-Length required on stream transports',
    });
  });

  it('round-trips through the serializer', () => {
    const m = must(invite());
    const again = must(serializeSipMessage(m));
    expect(again).toEqual(m);
  });

  it('keeps headers named like Object.prototype members (constructor, toString, __proto__) as ordinary headers', () => {
    const m = must(invite({ extra: ['constructor: a', 'toString: b', '__proto__: c'] }));
    expect([m.headers.get('constructor'), m.headers.get('tostring'), m.headers.get('__proto__')]).toEqual(['a', 'b', 'c']);
    expect([...m.headers.entries()].every(([name]) => typeof name === 'string')).toBe(true);
    expect(must(serializeSipMessage(m))).toEqual(m);
  });

  it('builds responses that copy the dialog-forming headers and add a to-tag', () => {
    const m = must(invite({ extra: ['Via: SIP/2.0/UDP 10.9.9.9;branch=z9hG4bKproxy'] }));
    if (m.kind !== 'request') throw new Error();
    const res = buildResponse(m, 486, { toTag: 'xyz', headers: { 'retry-after': '30' } });
    const parsed = must(serializeSipMessage(res));
    expect(parsed).toMatchObject({ kind: 'response', status: 486, reason: 'Busy Here' });
    expect(parsed.headers.getAll('via')).toEqual(m.headers.getAll('via'));
    expect(tagOf(parsed.headers.get('to'))).toBe('xyz');
    expect(parsed.headers.get('retry-after')).toBe('30');
    expect(parsed.headers.get('cseq')).toBe('1 INVITE');
  });
});

describe('SIP grammar', () => {
  it('parses URIs', () => {
    expect(parseUri('sip:alice@atlanta.com:5061;transport=tcp')).toMatchObject({
      scheme: 'sip',
      user: 'alice',
      host: 'atlanta.com',
      port: 5061,
    });
    expect(parseUri('sips:[2001:db8::1]:5061')).toMatchObject({ host: '[2001:db8::1]', port: 5061 });
    expect(parseUri('tel:+15550100')).toMatchObject({ scheme: 'tel', user: '+15550100' });
    for (const bad of ['', 'sip:', 'http://x', 'sip:a@', 'sip:a@b:99999', 'sip:a b@c', 'sip:@h']) expect(parseUri(bad)).toBeUndefined();
  });

  it('parses name-addr and addr-spec with header params', () => {
    expect(parseNameAddr('"A \\"B\\"" <sip:a@b>;tag=1')).toMatchObject({ display: 'A \\"B\\"', params: new Map([['tag', '1']]) });
    const spec = parseNameAddr('sip:a@b;tag=2');
    expect(spec?.params.get('tag')).toBe('2');
    expect(spec?.uri.params.size).toBe(0);
    expect(parseNameAddr('<sip:a@b')).toBeUndefined();
  });

  it('parses CSeq strictly', () => {
    expect(parseCSeq('4711 INVITE')).toEqual({ seq: 4711, method: 'INVITE' });
    expect(parseCSeq('4294967296 INVITE')).toBeUndefined();
    expect(parseCSeq('1')).toBeUndefined();
  });

  it('splits header lists outside quotes and angle brackets', () => {
    expect(splitHeaderList('<sip:a@b;x=1,2>, "c,d" <sip:e@f>')).toEqual(['<sip:a@b;x=1,2>', '"c,d" <sip:e@f>']);
    const h = new SipHeaders().append('Contact', '*');
    expect(h.getAll('m')).toEqual(['*']);
  });
});

describe('TCP stream framer', () => {
  it('splits a byte stream into messages across arbitrary chunk boundaries, answering keep-alives', () => {
    const a = invite();
    const b = invite({ branch: 'z9hG4bK-2' });
    const stream = Buffer.concat([Buffer.from('\r\n\r\n'), a, b]);
    const f = new SipStreamFramer(DEFAULT_SIP_LIMITS);
    const out: Buffer[] = [];
    let keepalives = 0;
    for (let i = 0; i < stream.length; i += 7) {
      for (const r of f.push(stream.subarray(i, i + 7))) {
        if (r.type === 'message') out.push(r.bytes);
        else if (r.type === 'keepalive') keepalives++;
        else throw new Error(r.reason);
      }
    }
    expect(out).toEqual([a, b]);
    expect(keepalives).toBeGreaterThan(0);
    expect(f.bufferedBytes).toBe(0);
  });

  it('fails a stream without Content-Length or with an endless header (bounded buffer)', () => {
    const f = new SipStreamFramer(DEFAULT_SIP_LIMITS);
    const noCl = invite({ body: '' })
      .toString()
      .replace(/Content-Length: \d+\r\n/, '');
    expect(f.push(Buffer.from(noCl))).toEqual([{ type: 'error', reason: 'Content-Length required on stream transports' }]);
    const g = new SipStreamFramer(DEFAULT_SIP_LIMITS);
    let r: ReturnType<SipStreamFramer['push']> = [];
    for (let i = 0; i < 20 && r.length === 0; i++) r = g.push(Buffer.alloc(1024, 0x41));
    expect(r).toEqual([{ type: 'error', reason: 'header block too large' }]);
    expect(g.bufferedBytes).toBe(0);
  });
});

describe('fuzz regressions', () => {
  it('rejects an empty Via on a response instead of dropping it (found by bench-sip-fuzz, seed 1 #48997)', () => {
    const r = parseSipMessage(
      sip(['SIP/2.0 200 OK', 'Via: ', 'From: <sip:a@b>;tag=1', 'To: <sip:c@d>;tag=2', 'Call-ID: x', 'CSeq: 7 REFER', 'Content-Length: 0']),
    );
    expect(r).toMatchObject({ ok: false, reason: 'bad Via header' });
  });
});

describe('more fuzz regressions', () => {
  it('rejects header parameter values that are neither token/host nor quoted (seed 6 #52006)', () => {
    const r = parseSipMessage(Buffer.from(invite().toString().replace('branch=z9hG4bK-test-1', 'branch=z9hG4bK776as<dhds')));
    expect(r).toMatchObject({ ok: false, reason: 'bad Via header' });
  });
});
