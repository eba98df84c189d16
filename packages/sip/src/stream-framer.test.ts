import { describe, expect, it } from 'vitest';
import { StreamFramer, type StreamFramerLimits, type StreamFramingReason } from './stream-framer.js';

type Event = { kind: 'message'; text: string } | { kind: 'ping' } | { kind: 'error'; reason: StreamFramingReason };

function collector(limits: Partial<StreamFramerLimits> = {}) {
  const events: Event[] = [];
  const framer = new StreamFramer(
    {
      onMessage: (m) => events.push({ kind: 'message', text: m.toString('utf8') }),
      onPing: () => events.push({ kind: 'ping' }),
      onError: (e) => events.push({ kind: 'error', reason: e.reason }),
    },
    limits,
  );
  return { framer, events };
}

function sip(body: string, extraHeaders = '', clHeader = 'Content-Length'): string {
  const len = Buffer.byteLength(body, 'utf8');
  return (
    'MESSAGE sip:bob@example.com SIP/2.0\r\n' +
    'Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK776\r\n' +
    'Call-ID: a84b4c76e66710\r\n' +
    extraHeaders +
    `${clHeader}: ${len}\r\n` +
    '\r\n' +
    body
  );
}

const REGISTER = sip('', '', 'Content-Length');
const UTF8 = sip('héllo wörld ✓ 😀', 'Content-Type: text/plain;charset=utf-8\r\n');
const COMPACT = sip('compact', '', 'l');
const LOWER = sip('lower case', '', 'content-LENGTH ');
const STREAM = Buffer.from(REGISTER + '\r\n\r\n' + UTF8 + '\r\n' + COMPACT + LOWER, 'utf8');
const EXPECTED: Event[] = [
  { kind: 'message', text: REGISTER },
  { kind: 'ping' },
  { kind: 'message', text: UTF8 },
  { kind: 'message', text: COMPACT },
  { kind: 'message', text: LOWER },
];

describe('StreamFramer', () => {
  it('delivers what came before a framing error, and hands over the broken header section when it is complete', () => {
    const heads: string[] = [];
    const events: string[] = [];
    const framer = new StreamFramer({
      onMessage: (m) => events.push(`message ${m.length}`),
      onPing: () => events.push('ping'),
      onError: (e) => {
        events.push(`error ${e.reason}`);
        if (e.head !== undefined) heads.push(e.head.toString('latin1'));
      },
    });
    const broken = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: -5\r\n\r\n';
    framer.push(Buffer.from(REGISTER + broken + REGISTER));
    expect(events).toEqual([`message ${REGISTER.length}`, 'error content-length-invalid']);
    expect(heads).toEqual([broken]);
    // Missing, too: the header section is handed over; a section never ended is not.
    const missing: Array<string | undefined> = [];
    const f2 = new StreamFramer({
      onMessage: () => {},
      onPing: () => {},
      onError: (e) => missing.push(e.head?.toString()),
    });
    f2.push(Buffer.from('C\r\n\r\n'));
    expect(missing).toEqual(['C\r\n\r\n']);
    const f3 = new StreamFramer(
      { onMessage: () => {}, onPing: () => {}, onError: (e) => missing.push(e.head?.toString()) },
      { maxHeaderSize: 64 },
    );
    f3.push(Buffer.alloc(200, 'A'));
    expect(missing).toEqual(['C\r\n\r\n', undefined]);
  });

  it('frames coalesced messages, a ping and a pong delivered in one chunk', () => {
    const { framer, events } = collector();
    framer.push(STREAM);
    expect(events).toEqual(EXPECTED);
    expect(framer.buffered).toBe(0);
  });

  it('frames the same stream split in two at every byte offset', () => {
    for (let cut = 1; cut < STREAM.length; cut++) {
      const { framer, events } = collector();
      framer.push(STREAM.subarray(0, cut));
      framer.push(STREAM.subarray(cut));
      expect(events, `cut at ${cut}`).toEqual(EXPECTED);
    }
  });

  it('frames the stream fed one byte at a time', () => {
    const { framer, events } = collector();
    for (let i = 0; i < STREAM.length; i++) framer.push(STREAM.subarray(i, i + 1));
    expect(events).toEqual(EXPECTED);
    expect(framer.buffered).toBe(0);
  });

  it('frames the stream split in three at many offset pairs', () => {
    for (let a = 1; a < STREAM.length; a += 7) {
      for (let b = a + 1; b < STREAM.length; b += 13) {
        const { framer, events } = collector();
        framer.push(STREAM.subarray(0, a));
        framer.push(STREAM.subarray(a, b));
        framer.push(STREAM.subarray(b));
        expect(events, `cuts at ${a},${b}`).toEqual(EXPECTED);
      }
    }
  });

  it('counts Content-Length in bytes, not characters, for a UTF-8 body', () => {
    const { framer, events } = collector();
    framer.push(Buffer.from(UTF8 + REGISTER, 'utf8'));
    expect(events).toEqual([
      { kind: 'message', text: UTF8 },
      { kind: 'message', text: REGISTER },
    ]);
    expect((events[0] as { text: string }).text.endsWith('😀')).toBe(true);
  });

  it('waits for the rest of a message whose body has not arrived', () => {
    const { framer, events } = collector();
    const msg = Buffer.from(sip('0123456789'));
    framer.push(msg.subarray(0, msg.length - 3));
    expect(events).toEqual([]);
    expect(framer.buffered).toBe(msg.length - 3);
    framer.push(msg.subarray(msg.length - 3));
    expect(events).toEqual([{ kind: 'message', text: msg.toString() }]);
  });

  it('reports CRLFCRLF as a ping and ignores a lone CRLF pong', () => {
    const { framer, events } = collector();
    framer.push(Buffer.from('\r\n'));
    framer.push(Buffer.from(REGISTER));
    framer.push(Buffer.from('\r\n\r\n'));
    framer.push(Buffer.from('\r\n\r\n\r\n\r\n'));
    expect(events).toEqual([{ kind: 'message', text: REGISTER }, { kind: 'ping' }, { kind: 'ping' }, { kind: 'ping' }]);
  });

  it('reports a ping split across reads', () => {
    const { framer, events } = collector();
    framer.push(Buffer.from('\r'));
    framer.push(Buffer.from('\n\r'));
    expect(events).toEqual([]);
    framer.push(Buffer.from('\n'));
    expect(events).toEqual([{ kind: 'ping' }]);
  });

  it('accepts a folded Content-Length value and optional whitespace before the colon', () => {
    const { framer, events } = collector();
    const folded = 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length \t:\r\n  4 \r\n\r\nbody';
    framer.push(Buffer.from(folded));
    expect(events).toEqual([{ kind: 'message', text: folded }]);
  });

  it('does not take a look-alike header for Content-Length', () => {
    const { framer, events } = collector();
    framer.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length-X: 3\r\nLocation: x\r\n\r\n'));
    expect(events).toEqual([{ kind: 'error', reason: 'content-length-missing' }]);
  });

  it.each([
    ['a missing Content-Length', 'OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n', 'content-length-missing'],
    ['a negative Content-Length', 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n', 'content-length-invalid'],
    ['a non-numeric Content-Length', 'OPTIONS sip:a@b SIP/2.0\r\nl: 12abc\r\n\r\n', 'content-length-invalid'],
    ['an empty Content-Length', 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length:\r\n\r\n', 'content-length-invalid'],
    [
      'conflicting Content-Lengths',
      'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\nl: 5\r\n\r\nhello',
      'content-length-conflict',
    ],
    [
      'a Content-Length beyond the message limit',
      'OPTIONS sip:a@b SIP/2.0\r\nl: 99999999999999999999\r\n\r\n',
      'message-too-large',
    ],
    ['a stray CR between messages', '\r\n\rOPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n\r\n', 'stray-bytes'],
  ] as const)('rejects %s as a framing error', (_name, input, reason) => {
    const { framer, events } = collector();
    framer.push(Buffer.from(input));
    expect(events).toEqual([{ kind: 'error', reason }]);
    expect(framer.hasFailed).toBe(true);
  });

  it('accepts identical repeated Content-Length headers', () => {
    const { framer, events } = collector();
    const msg = 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 2\r\nl: 2\r\n\r\nok';
    framer.push(Buffer.from(msg));
    expect(events).toEqual([{ kind: 'message', text: msg }]);
  });

  it('fails on a message larger than maxMessageSize and processes nothing after', () => {
    const { framer, events } = collector({ maxMessageSize: 200 });
    framer.push(Buffer.from(sip('x'.repeat(200))));
    framer.push(Buffer.from(REGISTER));
    expect(events).toEqual([{ kind: 'error', reason: 'message-too-large' }]);
  });

  it('fails on a header section larger than maxHeaderSize, in one chunk or many', () => {
    const big = sip('', `X-Big: ${'y'.repeat(300)}\r\n`);
    const one = collector({ maxHeaderSize: 256 });
    one.framer.push(Buffer.from(big));
    expect(one.events).toEqual([{ kind: 'error', reason: 'header-too-large' }]);

    const many = collector({ maxHeaderSize: 256 });
    for (let i = 0; i < big.length; i += 10) many.framer.push(Buffer.from(big.slice(i, i + 10)));
    expect(many.events).toEqual([{ kind: 'error', reason: 'header-too-large' }]);
  });

  it('fails on 1 MB of junk without a blank line, without buffering it', () => {
    const { framer, events } = collector();
    const junk = Buffer.alloc(1024 * 1024, 'A');
    for (let i = 0; i < junk.length && !framer.hasFailed; i += 65536) framer.push(junk.subarray(i, i + 65536));
    expect(events).toEqual([{ kind: 'error', reason: 'header-too-large' }]);
    expect(framer.buffered).toBe(0);
  });

  it('delivers a whole message in one chunk without copying it', () => {
    const chunk = Buffer.from(REGISTER + REGISTER);
    const seen: Buffer[] = [];
    const framer = new StreamFramer({ onMessage: (m) => seen.push(m), onPing: () => {}, onError: () => {} });
    framer.push(chunk);
    expect(seen).toHaveLength(2);
    expect(seen[1]?.buffer).toBe(chunk.buffer);
  });
});
