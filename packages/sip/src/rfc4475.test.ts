/**
 * RFC 4475 (SIP torture test messages): every message of the RFC's bit-exact archive,
 * read from packages/sip/test-fixtures/rfc4475, through parseMessage. The manifest there
 * records, per message, the RFC section, the outcome the RFC asks of a parser, the facts a
 * correct parse yields and what the application layer answers afterwards.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SipMessage } from './message.js';
import { SipRequest, SipResponse } from './message.js';
import type { NameAddr } from './name-addr.js';
import { parseMessage } from './parser.js';
import { serializeMessage } from './serializer.js';
import { SipParseError } from './sip-error.js';
import { parseUri, unescapeUser } from './sip-uri.js';

type Outcome = 'parse' | 'reject' | 'parse-then-app-reject';

interface AddrFacts {
  uri?: string;
  displayName?: string;
  /** null: the tag must be absent. */
  tag?: string | null;
}

interface ContactFacts {
  uri: string;
  displayName?: string;
  /** Exact header parameters (names lowercase); null values are valueless params. */
  params?: Record<string, string | null>;
}

interface ViaFacts {
  transport: string;
  host: string;
  port?: number;
  /** null: no branch parameter at all. */
  branch?: string | null;
}

interface Facts {
  method?: string;
  uri?: string;
  status?: number;
  reason?: string;
  callId?: string;
  cseq?: { seq: number; method: string };
  /** null: no Max-Forwards header. */
  maxForwards?: number | null;
  bodyLength?: number;
  /** getHeader(name) must equal the value exactly (after unfolding). */
  headers?: Record<string, string>;
  /** getHeaders(name).length */
  headerCounts?: Record<string, number>;
  /** Every Via element, top first. */
  vias?: ViaFacts[];
  from?: AddrFacts;
  to?: AddrFacts;
  contacts?: ContactFacts[];
}

interface Entry {
  file: string;
  bytes: number;
  name: string;
  section: string;
  title: string;
  kind: 'request' | 'response';
  transport?: 'datagram';
  expected: Outcome;
  /** Other outcomes the RFC calls acceptable. */
  acceptable?: Outcome[];
  /** Response status for a rejected request; null for a response, which is dropped. */
  status?: number | null;
  app?: { status: number | null; note: string };
  appBehaviour?: string;
  rfc: string;
  facts?: Facts;
}

interface Manifest {
  messages: Entry[];
}

const FIXTURES = new URL('../test-fixtures/rfc4475/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', FIXTURES), 'utf8')) as Manifest;
const corpus = manifest.messages.map((entry) => ({ entry, data: readFileSync(new URL(entry.file, FIXTURES)) }));
const byName = new Map(corpus.map((c) => [c.entry.name, c]));

function fixture(name: string): Buffer {
  const c = byName.get(name);
  if (c === undefined) throw new Error(`no fixture ${name}`);
  return c.data;
}

function request(name: string): SipRequest {
  const m = parseMessage(fixture(name));
  if (!(m instanceof SipRequest)) throw new Error(`${name} did not parse as a request`);
  return m;
}

/** What parseMessage did with the bytes: a message, or the error it threw. */
function attempt(data: Buffer, stream = false): unknown {
  try {
    return parseMessage(data, { stream });
  } catch (err) {
    return err;
  }
}

/** The octets after the first empty line, as the RFC lays the message out. */
function bytesAfterHead(data: Buffer): Buffer {
  const i = data.indexOf('\r\n\r\n');
  return i < 0 ? Buffer.alloc(0) : data.subarray(i + 4);
}

function paramsObject(params: Iterable<[string, string | null]>): Record<string, string | null> {
  return Object.fromEntries(params);
}

function expectAddr(actual: NameAddr, want: AddrFacts, what: string): void {
  if (want.uri !== undefined) expect(actual.uri, `${what} URI`).toBe(want.uri);
  if (want.displayName !== undefined) expect(actual.displayName, `${what} display name`).toBe(want.displayName);
  if (want.tag === null) expect(actual.params.has('tag'), `${what} has no tag`).toBe(false);
  else if (want.tag !== undefined) expect(actual.params.get('tag'), `${what} tag`).toBe(want.tag);
}

function expectFacts(msg: SipMessage, facts: Facts, data: Buffer): void {
  if (facts.method !== undefined || facts.uri !== undefined) {
    expect(msg).toBeInstanceOf(SipRequest);
    const req = msg as SipRequest;
    if (facts.method !== undefined) expect(req.method, 'method').toBe(facts.method);
    if (facts.uri !== undefined) expect(req.uri, 'Request-URI').toBe(facts.uri);
  }
  if (facts.status !== undefined || facts.reason !== undefined) {
    expect(msg).toBeInstanceOf(SipResponse);
    const res = msg as SipResponse;
    if (facts.status !== undefined) expect(res.status, 'status').toBe(facts.status);
    if (facts.reason !== undefined) expect(res.reason, 'reason phrase').toBe(facts.reason);
  }
  if (facts.callId !== undefined) expect(msg.callId, 'Call-ID').toBe(facts.callId);
  if (facts.cseq !== undefined) expect(msg.cseq, 'CSeq').toEqual(facts.cseq);
  if (facts.maxForwards === null) expect(msg.maxForwards, 'Max-Forwards').toBeUndefined();
  else if (facts.maxForwards !== undefined) expect(msg.maxForwards, 'Max-Forwards').toBe(facts.maxForwards);
  if (facts.bodyLength !== undefined) {
    expect(msg.body.length, 'body length').toBe(facts.bodyLength);
    // The body is exactly the octets after the empty line, binary-safe.
    expect(msg.body.equals(bytesAfterHead(data).subarray(0, facts.bodyLength)), 'body bytes').toBe(true);
  }
  for (const [name, value] of Object.entries(facts.headers ?? {}))
    expect(msg.getHeader(name), `${name} header`).toBe(value);
  for (const [name, n] of Object.entries(facts.headerCounts ?? {}))
    expect(msg.getHeaders(name), `${name} values`).toHaveLength(n);
  if (facts.vias !== undefined) {
    const vias = msg.via;
    expect(
      vias.map((v) => v.host),
      'Via sent-by hosts',
    ).toEqual(facts.vias.map((v) => v.host));
    facts.vias.forEach((want, i) => {
      const v = vias[i]!;
      expect(v.transport, `Via ${i} transport`).toBe(want.transport);
      if (want.port !== undefined) expect(v.port, `Via ${i} port`).toBe(want.port);
      if (want.branch === null) expect(v.params.has('branch'), `Via ${i} has no branch`).toBe(false);
      else if (want.branch !== undefined) expect(v.params.get('branch'), `Via ${i} branch`).toBe(want.branch);
    });
  }
  if (facts.from !== undefined) expectAddr(msg.from, facts.from, 'From');
  if (facts.to !== undefined) expectAddr(msg.to, facts.to, 'To');
  if (facts.contacts !== undefined) {
    const contacts = msg.contacts;
    expect(contacts).not.toBe('*');
    const list = contacts as NameAddr[];
    expect(
      list.map((c) => c.uri),
      'Contact URIs',
    ).toEqual(facts.contacts.map((c) => c.uri));
    facts.contacts.forEach((want, i) => {
      if (want.displayName !== undefined)
        expect(list[i]!.displayName, `Contact ${i} display name`).toBe(want.displayName);
      if (want.params !== undefined) expect(paramsObject(list[i]!.params), `Contact ${i} params`).toEqual(want.params);
    });
  }
}

function expectRejected(err: unknown, entry: Entry): void {
  expect(err, `${entry.name} must be refused with SipParseError`).toBeInstanceOf(SipParseError);
  if (typeof entry.status === 'number') expect((err as SipParseError).status, 'response status').toBe(entry.status);
}

function outcomeWords(entry: Entry, o: Outcome): string {
  if (o !== 'reject') return 'parses';
  return typeof entry.status === 'number' ? `is refused with ${entry.status}` : 'is refused (a response: dropped)';
}

function describeOutcome(entry: Entry): string {
  const also = (entry.acceptable ?? []).map((o) => outcomeWords(entry, o));
  return outcomeWords(entry, entry.expected) + (also.length > 0 ? ` (RFC also allows: ${also.join(', ')})` : '');
}

describe('RFC 4475 corpus', () => {
  it('holds all 49 messages of RFC 4475 §3, byte-exact with CRLF line ends', () => {
    expect(corpus).toHaveLength(49);
    const sections = new Set(corpus.map((c) => c.entry.section));
    expect(sections.size).toBe(49);
    for (const { entry, data } of corpus) {
      expect(data.length, entry.file).toBe(entry.bytes);
      // Every LF of the head is preceded by CR: no line-ending normalisation happened on the way in.
      // (mpart01's binary body part legitimately holds bare LF and CR octets, so bodies are not checked.)
      const head = entry.name === 'baddn' ? data : data.subarray(0, data.indexOf('\r\n\r\n') + 4);
      expect(head.length, `${entry.file} has a head`).toBeGreaterThan(4);
      for (let i = head.indexOf(10); i >= 0; i = head.indexOf(10, i + 1))
        expect(head[i - 1], `${entry.file} byte ${i}`).toBe(13);
    }
    expect(fixture('mpart01').includes(0)).toBe(true);
  });
});

describe('RFC 4475 messages through parseMessage', () => {
  for (const { entry, data } of corpus) {
    it(`§${entry.section} ${entry.name} (${entry.title}) ${describeOutcome(entry)}`, () => {
      const result = attempt(data);
      const allowed = [entry.expected, ...(entry.acceptable ?? [])];
      if (allowed.includes('reject') && (result instanceof SipParseError || !allowed.some((o) => o !== 'reject'))) {
        expectRejected(result, entry);
        return;
      }
      if (!(result instanceof SipRequest || result instanceof SipResponse)) {
        throw new Error(`${entry.name} must parse; parseMessage threw ${String(result)}`);
      }
      expect(result.isRequest(), 'request or response').toBe(entry.kind === 'request');
      expectFacts(result, entry.facts ?? {}, data);
    });
  }
});

describe('RFC 4475 details a parser must get right', () => {
  it('wsinv: unfolds every folded line and reads LWS-laden Via, CSeq and name-addr values', () => {
    const m = request('wsinv');
    expect(m.getHeader('newfangledheader')).toBe('newfangled value continued newfangled value');
    expect(m.getHeaders('via')).toHaveLength(3);
    expect(m.routes.map((r) => r.uri)).toEqual(['sip:services.example.com;lr;unknownwith=value;unknown-no-value']);
    expect(parseUri(m.uri).params.has('unknownparam')).toBe(true);
  });

  it('intmeth: reads the user part, password and host of the unusual Request-URI', () => {
    const uri = parseUri(request('intmeth').uri);
    expect(uri.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(uri.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(uri.host).toBe('example.com');
    expect(uri.headers).toBeUndefined();
  });

  it('esc01: %HH escapes in URI user parts decode once, never recursively', () => {
    const m = request('esc01');
    expect(unescapeUser(parseUri(m.uri).user ?? '')).toBe('sips:user@example.com');
    expect(parseUri(m.uri).host).toBe('example.net');
    expect(unescapeUser(parseUri(m.to.uri).user ?? '')).toBe('user');
    expect(unescapeUser(parseUri(m.from.uri).user ?? '')).toBe('I have spaces');
    const contact = (m.contacts as NameAddr[])[0]!;
    expect(unescapeUser(parseUri(contact.uri).user ?? '')).toBe('caller');
    const params = [...parseUri(contact.uri).params].map(([k, v]) => [
      decodeURIComponent(k),
      v === null ? null : decodeURIComponent(v),
    ]);
    expect(params).toEqual([
      ['lr', null],
      ['name', 'value%41'],
    ]);
  });

  it('escnull: escaped NULs keep the AOR whole and the two Contacts distinct', () => {
    const m = request('escnull');
    expect(unescapeUser(parseUri(m.to.uri).user ?? '')).toBe('null-\u0000-null');
    const users = (m.contacts as NameAddr[]).map((c) => unescapeUser(parseUri(c.uri).user ?? ''));
    expect(users).toEqual(['\u0000', '\u0000\u0000']);
  });

  it('semiuri: the user part is "user;par=u@example.net" and the host example.com', () => {
    const uri = parseUri(request('semiuri').uri);
    expect(uri.user).toBe('user;par=u%40example.net');
    expect(unescapeUser(uri.user ?? '')).toBe('user;par=u@example.net');
    expect(uri.host).toBe('example.com');
    expect(uri.params.size).toBe(0);
  });

  it('dblreq: the INVITE-looking octets after the REGISTER are dropped, also when forwarded', () => {
    const m = request('dblreq');
    expect(m.body.length).toBe(0);
    expect(serializeMessage(m).includes('INVITE')).toBe(false);
  });

  it('mpart01: the binary body with NUL and bare CR octets is framed by Content-Length', () => {
    const m = request('mpart01');
    expect(m.body.includes(0)).toBe(true);
    expect(m.body.subarray(-24).toString('latin1')).toBe('\r\n--7a9cbec02ceef655--\r\n');
    expect(serializeMessage(m).subarray(-553).equals(m.body)).toBe(true);
  });

  it('inv2543: without Content-Length the body is the rest of the datagram, and a stream refuses it', () => {
    expect(request('inv2543').body.toString('latin1')).toMatch(/^v=0\r\n[^]*m=audio 49217 RTP\/AVP 0\r\n$/);
    // RFC 3261 §18.3: Content-Length MUST be used on stream transports.
    expect(attempt(fixture('inv2543'), true)).toBeInstanceOf(SipParseError);
  });

  it('cparam01 and cparam02: a param outside <> belongs to the Contact, inside <> to the URI', () => {
    const outside = (request('cparam01').contacts as NameAddr[])[0]!;
    expect(parseUri(outside.uri).params.has('unknownparam')).toBe(false);
    expect(outside.params.has('unknownparam')).toBe(true);
    const inside = (request('cparam02').contacts as NameAddr[])[0]!;
    expect(parseUri(inside.uri).params.has('unknownparam')).toBe(true);
    expect(inside.params.size).toBe(0);
  });

  it('regescrt: the escaped Route header stays inside the Contact URI', () => {
    const contact = (request('regescrt').contacts as NameAddr[])[0]!;
    expect(parseUri(contact.uri).headers).toBe('Route=%3Csip:sip.example.com%3E');
  });

  it('baddn: still refused with 400 once the missing empty line is added (the display names are the fault)', () => {
    const data = Buffer.concat([fixture('baddn'), Buffer.from('\r\n')]);
    const err = attempt(data);
    expect(err).toBeInstanceOf(SipParseError);
    expect((err as SipParseError).status).toBe(400);
  });

  it('ncl: a non-numeric Content-Length ("five") is refused like a negative one', () => {
    const data = Buffer.from(
      fixture('ncl').toString('latin1').replace('Content-Length: -999', 'Content-Length: five'),
      'latin1',
    );
    expect(attempt(data)).toBeInstanceOf(SipParseError);
  });

  it('every message that parses survives serialize-and-reparse with the same start line, Call-ID, CSeq and body', () => {
    for (const { entry, data } of corpus) {
      const first = attempt(data);
      if (!(first instanceof SipRequest || first instanceof SipResponse)) continue;
      const again = attempt(serializeMessage(first), true);
      expect(again, `${entry.name} re-parses`).not.toBeInstanceOf(Error);
      const m = again as SipMessage;
      if (first instanceof SipRequest) {
        expect((m as SipRequest).method, entry.name).toBe(first.method);
        expect((m as SipRequest).uri, entry.name).toBe(first.uri);
      } else expect((m as SipResponse).status, entry.name).toBe(first.status);
      expect(m.callId, entry.name).toBe(first.callId);
      expect(m.cseq, entry.name).toEqual(first.cseq);
      expect(m.body.equals(first.body), `${entry.name} body`).toBe(true);
      expect(m.via.length, `${entry.name} Via count`).toBe(first.via.length);
    }
  });
});

/** Small deterministic PRNG (mulberry32) so a failing mutation can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Parses and touches every lazy accessor; anything but SipParseError escaping is a failure. */
function hostileParse(data: Buffer, stream: boolean): 'ok' | 'refused' {
  let msg: SipMessage;
  try {
    msg = parseMessage(data, { stream });
  } catch (err) {
    if (err instanceof SipParseError) return 'refused';
    throw err;
  }
  const touch = [
    () => msg.via,
    () => msg.from,
    () => msg.to,
    () => msg.callId,
    () => msg.cseq,
    () => msg.maxForwards,
    () => msg.contacts,
    () => msg.routes,
    () => msg.recordRoutes,
    () => serializeMessage(msg),
  ];
  for (const f of touch) {
    try {
      f();
    } catch (err) {
      if (!(err instanceof SipParseError)) throw err;
    }
  }
  return 'ok';
}

describe('RFC 4475 messages, truncated and corrupted', () => {
  corpus.forEach(({ entry, data }, index) => {
    it(`${entry.name}: 50 truncations and 50 byte-flip mutations only ever parse or throw SipParseError`, () => {
      const seed = 4475_000 + index;
      const random = prng(seed);
      const started = performance.now();
      for (let n = 0; n < 50; n++) {
        const cut = Math.floor(random() * data.length);
        const truncated = data.subarray(0, cut);
        for (const stream of [false, true]) {
          expect(() => hostileParse(truncated, stream), `seed ${seed} truncation ${n} at ${cut}`).not.toThrow();
        }
      }
      for (let n = 0; n < 50; n++) {
        const mutated = Buffer.from(data);
        const flips = 1 + Math.floor(random() * 4);
        for (let f = 0; f < flips; f++) {
          const at = Math.floor(random() * mutated.length);
          mutated[at] = mutated[at]! ^ (1 + Math.floor(random() * 255));
        }
        for (const stream of [false, true]) {
          expect(() => hostileParse(mutated, stream), `seed ${seed} mutation ${n}`).not.toThrow();
        }
      }
      // 400 parses of messages under 4 KB; a catastrophic regex or a loop would blow far past this.
      expect(performance.now() - started).toBeLessThan(3000);
    }, 15_000);
  });
});

// The application-layer answers (416, 420, 401, 483, dropping bcast, 400 for unksm2) are asserted
// against a running server in apps/server/src/proxy/rfc4475-semantics.test.ts. invut (415) and
// sdp01 (406) are endpoint answers: a proxy forwards those requests unchanged.
