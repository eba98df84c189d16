import { describe, expect, it } from 'vitest';
import { createResponse } from './create-response.js';
import { SipRequest } from './message.js';
import { parseMessage } from './parser.js';
import { serializeMessage } from './serializer.js';
import { SipParseError } from './sip-error.js';
import { parseVia } from './via.js';

const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, '\r\n'));

const INVITE = crlf(`INVITE sip:bob@biloxi.example.com SIP/2.0
v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds, SIP/2.0/TCP proxy.example.com;branch=z9hG4bK1
Max-Forwards: 70
To: "Bób 🙂" <sip:bob@biloxi.example.com>
f: <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
Subject: folded
 over two lines
X-Empty:
Content-Type: application/sdp
Content-Length: 4

v=0
`);

describe('SipMessage.compact', () => {
  it('leaves a message that reads and serializes exactly as before', () => {
    const m = parseMessage(INVITE) as SipRequest;
    const before = { headers: structuredClone(m.headers), wire: serializeMessage(m), from: m.from, via: m.via };
    m.compact();
    expect(serializeMessage(m)).toEqual(before.wire);
    expect(m.headers).toEqual(before.headers);
    expect(m.from).toEqual(before.from);
    expect(m.via).toEqual(before.via);
    expect(m.getHeader('subject')).toBe('folded over two lines');
    expect(m.getHeader('x-empty')).toBe('');
    expect(m.body.toString()).toBe('v=0\r');
  });

  it('keeps headers whose key is not derived from the name, and unusual text', () => {
    const odd = [
      { name: 'X-Odd', key: 'something-else', value: 'lone \ud800 surrogate, NUL \u0000 and 🙂' },
      { name: 'Via', key: 'via', value: 'SIP/2.0/UDP h;branch=z9hG4bK1' },
    ];
    const m = new SipRequest('OPTIONS', 'sip:a@b', structuredClone(odd));
    m.compact();
    expect(m.headers).toEqual(odd);
    // Too long for the packed form: kept as it is.
    const huge = [{ name: 'x'.repeat(70_000), key: 'long', value: 'v'.repeat(70_000) }];
    const big = new SipRequest('OPTIONS', 'sip:a@b', structuredClone(huge));
    big.compact();
    expect(big.headers).toEqual(huge);
  });

  it('takes changes after compacting, and can be compacted again', () => {
    const m = parseMessage(INVITE);
    m.compact();
    m.setHeader('Subject', 'new');
    m.appendHeader('X-Added', '1');
    expect(m.getHeader('subject')).toBe('new');
    m.compact();
    m.compact();
    expect(m.getHeader('x-added')).toBe('1');
    expect(serializeMessage(m).toString()).toContain('Subject: new\r\n');
  });
});

describe('SipMessage.replaceTopVia', () => {
  it('replaces the first element of a Via list and keeps the parsed view in step', () => {
    const m = parseMessage(INVITE);
    const stamped = parseVia('SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1');
    m.replaceTopVia('SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1', stamped);
    expect(m.getHeaders('via')).toEqual([
      'SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1',
      'SIP/2.0/TCP proxy.example.com;branch=z9hG4bK1',
    ]);
    expect(m.via.map((v) => v.params.get('received') ?? null)).toEqual(['192.0.2.1', null]);
  });

  it('replaces a one-element Via line in place, before the other Via lines', () => {
    const m = parseMessage(
      crlf(`OPTIONS sip:a@b.example SIP/2.0
Via: SIP/2.0/UDP h1;branch=z9hG4bK1
Via: SIP/2.0/UDP h2;branch=z9hG4bK2
From: <sip:x@y.example>;tag=1
To: <sip:a@b.example>
Call-ID: c
CSeq: 1 OPTIONS

`),
    );
    const value = 'SIP/2.0/UDP h1;branch=z9hG4bK1;rport=5060;received=192.0.2.1';
    m.replaceTopVia(value, parseVia(value));
    expect(m.getHeaders('via')).toEqual([value, 'SIP/2.0/UDP h2;branch=z9hG4bK2']);
    expect(m.topVia.params.get('rport')).toBe('5060');
    expect(serializeMessage(m).toString()).toMatch(
      /^OPTIONS [^\r]+\r\nVia: SIP\/2\.0\/UDP h1;branch=z9hG4bK1;rport=5060;received/,
    );
  });
});

const TWO_VIA_LINES = crlf(`SIP/2.0 180 Ringing
Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK1, SIP/2.0/TCP h2.example.com;branch=z9hG4bK2
Via: SIP/2.0/UDP h3.example.com;branch=z9hG4bK3
Record-Route: <sip:rr1.example.com;lr>, <sip:rr2.example.com;lr>
From: <sip:x@y.example>;tag=1
To: <sip:a@b.example>;tag=2
Call-ID: c
CSeq: 1 INVITE

`);

describe('SipMessage.removeFirstValue', () => {
  it('drops the first element of the parsed list too, the rest equal to a fresh parse', () => {
    const m = parseMessage(TWO_VIA_LINES);
    const [, second, third] = m.via;
    expect(m.removeFirstValue('via')).toBe('SIP/2.0/UDP proxy.example.com;branch=z9hG4bK1');
    // The very objects the parser built: nothing was parsed again.
    expect(m.via[0]).toBe(second);
    expect(m.via[1]).toBe(third);
    expect(m.via).toEqual(parseMessage(serializeMessage(m)).via);
    m.removeFirstValue('via');
    m.removeFirstValue('via');
    expect(m.via).toEqual([]);
    expect(m.firstVia()).toBeUndefined();
    expect(m.removeFirstValue('via')).toBeUndefined();
  });

  it('keeps Record-Route in step as well, and parses on first use when there was no view', () => {
    const m = parseMessage(TWO_VIA_LINES);
    expect(m.recordRoutes.map((r) => r.uri)).toEqual(['sip:rr1.example.com;lr', 'sip:rr2.example.com;lr']);
    m.removeFirstValue('record-route');
    expect(m.recordRoutes.map((r) => r.uri)).toEqual(['sip:rr2.example.com;lr']);
    m.removeFirstValue('route'); // none: nothing changes
    m.removeFirstValue('record-route');
    expect(m.recordRoutes).toEqual([]);
    expect(m.hasHeader('record-route')).toBe(false);
  });

  it('does not shift the view past an empty first line, which is not one of its elements', () => {
    const m = parseMessage(TWO_VIA_LINES);
    void m.via;
    m.prependHeader('Via', '');
    void m.via;
    expect(m.removeFirstValue('via')).toBeUndefined();
    expect(m.via.map((v) => v.host)).toEqual(['proxy.example.com', 'h2.example.com', 'h3.example.com']);
  });
});

describe('SipMessage.firstVia', () => {
  it('parses only the top element of a message built with a new Via on top', () => {
    const m = new SipRequest('INVITE', 'sip:b@example.com', [
      { name: 'Via', key: 'via', value: 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bKnew' },
      // Below it, what a parser would refuse: firstVia never looks at it, via does.
      { name: 'Via', key: 'via', value: 'SIP/2.0/UDP bad host' },
    ]);
    expect(m.firstVia()?.params.get('branch')).toBe('z9hG4bKnew');
    expect(m.topVia).toBe(m.firstVia());
    expect(() => m.via).toThrow(SipParseError);
  });

  it('follows changes: a prepended Via, a list in the first line, an empty first line', () => {
    const m = new SipRequest('OPTIONS', 'sip:b@example.com', [
      { name: 'Via', key: 'via', value: '' },
      { name: 'Via', key: 'via', value: 'SIP/2.0/TCP a.example.com;branch=z9hG4bKa, SIP/2.0/UDP b.example.com' },
    ]);
    expect(m.firstVia()?.host).toBe('a.example.com');
    m.prependHeader('Via', 'SIP/2.0/WS c.invalid;branch=z9hG4bKc');
    expect(m.firstVia()?.transport).toBe('WS');
    m.removeFirstValue('via');
    expect(m.firstVia()?.host).toBe('a.example.com');
    m.removeHeader('via');
    expect(m.firstVia()).toBeUndefined();
    expect(() => m.topVia).toThrow(/missing Via/);
  });
});

describe('createResponse', () => {
  it('shares nothing a change to the response could alter in the request', () => {
    const req = parseMessage(INVITE) as SipRequest;
    const res = createResponse(req, 180, { toTag: 'abc' });
    res.removeFirstValue('via');
    res.setHeader('CSeq', '1 INVITE');
    expect(req.getHeaders('via')).toHaveLength(2);
    expect(req.getHeader('cseq')).toBe('314159 INVITE');
    expect(req.to.params.has('tag')).toBe(false);
    expect(res.to.params.get('tag')).toBe('abc');
  });
});

describe('SipRequest.requestUri', () => {
  it('is the parsed Request-URI, parsed once, and follows a change of uri', () => {
    const req = parseMessage(INVITE) as SipRequest;
    const first = req.requestUri;
    expect(first.scheme).toBe('sip');
    expect(req.requestUri).toBe(first); // the parser's own parse, kept
    req.uri = 'sips:bob@example.org:5061;transport=tcp';
    expect(req.requestUri).not.toBe(first);
    expect(req.requestUri).toMatchObject({ scheme: 'sips', user: 'bob', host: 'example.org', port: 5061 });
    expect(req.requestUri.params.get('transport')).toBe('tcp');
    expect(serializeMessage(req).toString()).toMatch(/^INVITE sips:bob@example\.org:5061;transport=tcp SIP\/2\.0\r\n/);
    const built = new SipRequest('OPTIONS', 'sip:example.com');
    expect(built.requestUri.host).toBe('example.com');
    built.compact();
    expect(built.requestUri.host).toBe('example.com');
  });

  it('throws the parse error of a bad Request-URI set after parsing, when it is read', () => {
    const req = parseMessage(INVITE) as SipRequest;
    req.uri = 'not a uri';
    expect(() => req.requestUri).toThrow(/not a URI/);
  });
});
