import { describe, expect, it } from 'vitest';
import { parseMessage } from './parser.js';
import { serializeMessage } from './serializer.js';
import { SipRequest, SipResponse } from './message.js';
import { SipParseError } from './sip-error.js';
import { parseUri } from './sip-uri.js';
import { createResponse } from './create-response.js';

const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, '\r\n'));

const INVITE = crlf(`INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: "Alice \\"A\\"" <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.atlanta.example.com>
X-Custom-Thing: keep me
Content-Type: application/sdp
Content-Length: 4

v=0
`);

describe('parseMessage', () => {
  it('parses a request with its headers, quoted display name with escapes, and body', () => {
    const m = parseMessage(INVITE);
    expect(m).toBeInstanceOf(SipRequest);
    const r = m as SipRequest;
    expect(r.method).toBe('INVITE');
    expect(r.uri).toBe('sip:bob@biloxi.example.com');
    expect(r.from.displayName).toBe('Alice "A"');
    expect(r.from.params.get('tag')).toBe('1928301774');
    expect(r.cseq).toEqual({ seq: 314159, method: 'INVITE' });
    expect(r.topVia.params.get('branch')).toBe('z9hG4bK776asdhds');
    expect(r.getHeader('x-custom-thing')).toBe('keep me');
    expect(r.body.toString()).toBe('v=0\r');
  });

  it('expands compact header forms and unfolds continuation lines', () => {
    const m = parseMessage(
      crlf(`OPTIONS sip:a@b.example SIP/2.0
v: SIP/2.0/TCP h.example:5070;branch=z9hG4bK1,
  SIP/2.0/UDP other.example;branch=z9hG4bK0
f: <sip:x@y.example>;tag=1
t: <sip:a@b.example>
i: abc
CSeq: 1
 OPTIONS
l: 0

`),
    );
    expect(m.via.map((v) => v.host)).toEqual(['h.example', 'other.example']);
    expect(m.via[0]!.port).toBe(5070);
    expect(m.cseq.method).toBe('OPTIONS');
    expect(m.callId).toBe('abc');
    expect(m.headers.find((h) => h.key === 'via')!.name).toBe('Via');
  });

  it('keeps repeated and comma-separated list headers in order', () => {
    const m = parseMessage(
      crlf(`INVITE sip:a@b.example SIP/2.0
Via: SIP/2.0/UDP h1;branch=z9hG4bK1
Route: <sip:p1.example;lr>, <sip:p2.example;lr>
Route: <sip:p3.example;lr>
From: <sip:x@y.example>;tag=1
To: <sip:a@b.example>
Call-ID: abc
CSeq: 1 INVITE
Content-Length: 0

`),
    );
    expect(m.routes.map((r) => r.uri)).toEqual(['sip:p1.example;lr', 'sip:p2.example;lr', 'sip:p3.example;lr']);
    expect(m.removeFirstValue('route')).toBe('<sip:p1.example;lr>');
    expect(m.routes.map((r) => r.uri)).toEqual(['sip:p2.example;lr', 'sip:p3.example;lr']);
  });

  it('parses IPv6 references in the Request-URI and Via', () => {
    const m = parseMessage(
      crlf(`REGISTER sip:[2001:db8::10]:5070 SIP/2.0
Via: SIP/2.0/UDP [2001:db8::9:1]:5060;branch=z9hG4bKas3;received=[2001:db8::9:255]
From: <sip:u@[2001:db8::10]>;tag=1
To: <sip:u@[2001:db8::10]>
Call-ID: abc
CSeq: 1 REGISTER
Contact: "u" <sip:u@[2001:db8::9:1]:5060>;expires=60
Content-Length: 0

`),
    ) as SipRequest;
    expect(parseUri(m.uri).host).toBe('[2001:db8::10]');
    expect(parseUri(m.uri).port).toBe(5070);
    expect(m.topVia.host).toBe('[2001:db8::9:1]');
    expect(m.topVia.port).toBe(5060);
    const c = m.contacts;
    expect(c !== '*' && c[0]!.params.get('expires')).toBe('60');
  });

  it('parses a response without a reason phrase and a UTF-8 reason phrase', () => {
    const base = `Via: SIP/2.0/UDP h1;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;
    const r1 = parseMessage(Buffer.from(`SIP/2.0 100 \r\n${base}`)) as SipResponse;
    expect(r1.status).toBe(100);
    const r2 = parseMessage(Buffer.from(`SIP/2.0 200 Très bien 日本\r\n${base}`)) as SipResponse;
    expect(r2.reason).toBe('Très bien 日本');
  });

  it.each([
    ['no blank line', 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n'],
    ['two spaces in the request line', 'OPTIONS  sip:a@b SIP/2.0\r\n'],
    [
      'a missing Call-ID',
      'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCSeq: 1 OPTIONS\r\n\r\n',
    ],
    [
      'CSeq method mismatch',
      'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n',
    ],
    [
      'two To headers',
      'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nTo: <sip:c@d>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n',
    ],
    [
      'Content-Length beyond the datagram',
      'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 50\r\n\r\nabc',
    ],
    [
      'an unterminated quote',
      'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: "x <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n',
    ],
    [
      'a status code of 10 digits',
      'SIP/2.0 4294967301 Big\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n',
    ],
    ['binary garbage', '\u0000\u0001\u00ff\u00fe garbage'],
  ])('rejects %s with SipParseError', (_name, text) => {
    expect(() => parseMessage(Buffer.from(text, 'latin1'))).toThrow(SipParseError);
  });

  it('checks every Via of a request, and of a response the top one (the rest is read only on demand)', () => {
    const head = (start: string, vias: string[]) =>
      crlf(`${start}
${vias.map((v) => `Via: ${v}`).join('\n')}
From: <sip:a@example.com>;tag=1
To: <sip:b@example.com>;tag=2
Call-ID: via-check
CSeq: 1 INVITE
Content-Length: 0

`);
    const good = 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bK1';
    const bad = 'SIP/2.0/UDP bad host;branch=z9hG4bK2';
    expect(() => parseMessage(head('INVITE sip:b@example.com SIP/2.0', [good, bad]))).toThrow(SipParseError);
    expect(() => parseMessage(head('SIP/2.0 180 Ringing', [bad, good]))).toThrow(SipParseError);
    expect(() => parseMessage(head('SIP/2.0 180 Ringing', []))).toThrow(/missing Via/);
    const res = parseMessage(head('SIP/2.0 180 Ringing', [good, bad])) as SipResponse;
    expect(res.topVia.params.get('branch')).toBe('z9hG4bK1');
    // Forwarded as it came: our Via removed, the next hop's text untouched.
    res.removeFirstValue('via');
    expect(serializeMessage(res).toString()).toContain(`\r\nVia: ${bad}\r\n`);
    expect(() => res.via).toThrow(SipParseError);
  });

  it('checks From and Contact of a request, and leaves those of a response to whoever reads them', () => {
    const msg = (start: string) =>
      crlf(`${start}
Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK1
From: no uri here;tag=1
To: <sip:b@example.com>;tag=2
Call-ID: from-check
CSeq: 1 INVITE
Contact: <sip:b@192.0.2.1
Content-Length: 0

`);
    expect(() => parseMessage(msg('INVITE sip:b@example.com SIP/2.0'))).toThrow(SipParseError);
    const res = parseMessage(msg('SIP/2.0 200 OK')) as SipResponse;
    expect(res.to.params.get('tag')).toBe('2');
    expect(() => res.from).toThrow(SipParseError);
    expect(() => res.contacts).toThrow(SipParseError);
    // A response still needs its From, and a parseable To (the tag a proxy and a UAC read).
    const noFrom = msg('SIP/2.0 200 OK')
      .toString()
      .replace(/From: [^\r]*\r\n/, '');
    expect(() => parseMessage(Buffer.from(noFrom))).toThrow(/missing From/);
    const badTo = msg('SIP/2.0 200 OK').toString().replace('To: <sip:b@example.com>;tag=2', 'To: <sip:b@example.com');
    expect(() => parseMessage(Buffer.from(badTo))).toThrow(SipParseError);
  });

  it('answers a SIP/7.0 request with 505', () => {
    try {
      parseMessage(Buffer.from('OPTIONS sip:a@b SIP/7.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n'));
      expect.unreachable();
    } catch (e) {
      expect((e as SipParseError).status).toBe(505);
    }
  });

  it('survives truncation at every offset and random byte flips', () => {
    for (let i = 0; i < INVITE.length; i++) {
      try {
        parseMessage(INVITE.subarray(0, i));
      } catch (e) {
        expect(e).toBeInstanceOf(SipParseError);
      }
    }
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let n = 0; n < 2000; n++) {
      const b = Buffer.from(INVITE);
      for (let k = 0; k < 3; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      try {
        const m = parseMessage(b);
        serializeMessage(m);
      } catch (e) {
        expect(e).toBeInstanceOf(SipParseError);
      }
    }
  });
});

describe('serializeMessage', () => {
  it('round-trips and writes a byte-accurate Content-Length for UTF-8 bodies', () => {
    const m = parseMessage(INVITE);
    m.body = Buffer.from('héllo ☎');
    const wire = serializeMessage(m);
    const again = parseMessage(wire, { stream: true });
    expect(again.getHeader('content-length')).toBe(String(Buffer.byteLength('héllo ☎')));
    expect(again.body.toString()).toBe('héllo ☎');
    expect(again.getHeader('X-Custom-Thing')).toBe('keep me');
  });

  it('builds responses that copy Via, From, To, Call-ID, CSeq and add a To-tag', () => {
    const req = parseMessage(INVITE) as SipRequest;
    const res = createResponse(req, 486, { toTag: 'xyz' });
    const back = parseMessage(serializeMessage(res)) as SipResponse;
    expect(back.status).toBe(486);
    expect(back.reason).toBe('Busy Here');
    expect(back.to.params.get('tag')).toBe('xyz');
    expect(back.callId).toBe(req.callId);
    expect(back.topVia.params.get('branch')).toBe('z9hG4bK776asdhds');
  });
});
