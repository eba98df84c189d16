import {
  computeAuthorization,
  DigestAuthenticator,
  type Flow,
  parseMessage,
  serializeMessage,
  type SipRequest,
  type SipResponse,
} from '@handset/sip';
import { beforeEach, describe, expect, it } from 'vitest';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { LocationService } from './location-service.js';
import { Registrar } from './registrar.js';
import { SipAuthentication } from './sip-authentication.js';
import type { SubscriberDirectory } from './subscriber-directory.js';
import type { Binding } from './binding.js';

const users = new Map([
  ['example.test\n1001', 'pw1001'],
  ['example.test\n1002', 'pw1002'],
]);
const directory: SubscriberDirectory = {
  isLocalDomain: async (d) => d === 'example.test',
  userExists: async (domain, ext) => users.has(`${domain}\n${ext}`),
  digestSecret: async (domain, ext) => {
    const password = users.get(`${domain}\n${ext}`);
    return password === undefined ? undefined : { password };
  },
};

const udp: Flow = {
  id: 'udp:a',
  protocol: 'udp',
  reliable: false,
  local: { address: '127.0.0.1', port: 5060 },
  remote: { address: '192.0.2.7', port: 40000 },
};
const ws: Flow = {
  id: 'ws:1',
  protocol: 'ws',
  reliable: true,
  local: { address: '127.0.0.1', port: 8080 },
  remote: { address: '192.0.2.8', port: 50000 },
};

let now = 1_700_000_000_000;
let cseq = 1;
function register(opts: {
  user?: string;
  contact?: string;
  expires?: string;
  callId?: string;
  extra?: string;
  auth?: string;
}): SipRequest {
  const user = opts.user ?? '1001';
  const text =
    `REGISTER sip:example.test SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 192.0.2.7:40000;branch=z9hG4bK${cseq}\r\n` +
    `From: <sip:${user}@example.test>;tag=f${cseq}\r\n` +
    `To: <sip:${user}@example.test>\r\n` +
    `Call-ID: ${opts.callId ?? 'reg-call-1'}\r\n` +
    `CSeq: ${cseq++} REGISTER\r\n` +
    (opts.contact === undefined
      ? `Contact: <sip:${user}@192.0.2.7:40000>\r\n`
      : opts.contact === ''
        ? ''
        : `Contact: ${opts.contact}\r\n`) +
    (opts.expires !== undefined ? `Expires: ${opts.expires}\r\n` : '') +
    (opts.auth !== undefined ? `Authorization: ${opts.auth}\r\n` : '') +
    (opts.extra ?? '') +
    `Content-Length: 0\r\n\r\n`;
  return parseMessage(Buffer.from(text)) as SipRequest;
}

describe('Registrar', () => {
  let location: LocationService;
  let registrar: Registrar;
  let flowsRegistered: Map<string, boolean>;
  const events: string[] = [];

  beforeEach(() => {
    now = 1_700_000_000_000;
    events.length = 0;
    location = new LocationService({ clock: () => now });
    for (const e of ['registered', 'refreshed', 'unregistered', 'expired'] as const)
      location.on(e, (b: Binding) => events.push(`${e}:${b.contactUri}`));
    flowsRegistered = new Map();
    registrar = new Registrar({
      location,
      directory,
      auth: new SipAuthentication({
        authenticator: new DigestAuthenticator({ key: Buffer.alloc(32, 7), clock: () => now }),
        directory,
        limiter: new AuthFailureLimiter({ maxFailures: 3, windowMs: 60_000, blockMs: 300_000, clock: () => now }),
      }),
      policy: { minExpires: 60, maxExpires: 3600, defaultExpires: 3600, maxContacts: 3 },
      setFlowRegistered: (f, r) => flowsRegistered.set(f.id, r),
      clock: () => now,
    });
  });

  /** Sends a REGISTER, answers the challenge with the password, returns the final response. */
  async function authed(
    opts: Parameters<typeof register>[0] & { password?: string },
    flow: Flow = udp,
  ): Promise<SipResponse> {
    const challenge = await registrar.handleRegister(register(opts), flow);
    expect(challenge.status).toBe(401);
    const user = opts.user ?? '1001';
    const auth = computeAuthorization(challenge.getHeaders('www-authenticate')[0]!, {
      username: user,
      password: opts.password ?? users.get(`example.test\n${user}`)!,
      method: 'REGISTER',
      uri: 'sip:example.test',
    });
    return registrar.handleRegister(register({ ...opts, auth }), flow);
  }

  it('challenges with SHA-256 first and MD5 second, then accepts the right password', async () => {
    const res = await registrar.handleRegister(register({}), udp);
    expect(res.status).toBe(401);
    const challenges = res.getHeaders('www-authenticate');
    expect(challenges[0]).toMatch(/algorithm=SHA-256/);
    expect(challenges[1]).toMatch(/algorithm=MD5/);
    expect(challenges[0]).toMatch(/qop="auth"/);
    const ok = await authed({});
    expect(ok.status).toBe(200);
    expect(ok.getHeaders('contact')).toEqual(['<sip:1001@192.0.2.7:40000>;expires=3600']);
    expect(events).toEqual(['registered:sip:1001@192.0.2.7:40000']);
  });

  it('dates each 200 OK with the current second (RFC 3261 §20.17)', async () => {
    now = Date.UTC(2026, 11, 2, 15, 4, 5, 250);
    expect((await authed({})).getHeader('date')).toBe('Wed, 02 Dec 2026 15:04:05 GMT');
    now += 500;
    expect((await authed({})).getHeader('date')).toBe('Wed, 02 Dec 2026 15:04:05 GMT');
    now += 300;
    expect((await authed({})).getHeader('date')).toBe('Wed, 02 Dec 2026 15:04:06 GMT');
  });

  describe('retransmissions of an answered REGISTER (no transaction kept for its 200)', () => {
    /** The authorized REGISTER of one scenario, answered, and its datagram to send again. */
    async function answered(opts: Parameters<typeof register>[0] = {}, flow: Flow = udp) {
      const challenge = await registrar.handleRegister(register(opts), flow);
      const auth = computeAuthorization(challenge.getHeaders('www-authenticate')[0]!, {
        username: '1001',
        password: users.get('example.test\n1001')!,
        method: 'REGISTER',
        uri: 'sip:example.test',
      });
      const text = serializeMessage(register({ ...opts, auth }));
      const again = () => parseMessage(text) as SipRequest;
      const first = await registrar.answer(again(), flow);
      expect(first.response.status).toBe(200);
      return { first, again };
    }

    it('answers the same datagram again with the 200 from the bindings, statelessly, before authentication', async () => {
      const { first, again } = await answered({ contact: '<sip:1001@192.0.2.7:40000>;expires=600' });
      expect(first.stateless).toBe(true);
      events.length = 0;
      now += 10_000;
      const retry = await registrar.answer(again(), udp);
      // Its nonce count was used by the first: authenticating again would refuse it as a replay.
      expect(retry.response.status).toBe(200);
      expect(retry.stateless).toBe(true);
      expect(retry.response.getHeaders('contact')).toEqual(['<sip:1001@192.0.2.7:40000>;expires=590']);
      expect(retry.response.getHeader('call-id')).toBe(first.response.getHeader('call-id'));
      expect(retry.response.getHeader('to')).toBe(first.response.getHeader('to'));
      expect(events).toEqual([]);
    });

    it('is not recognised from another source, after 32 s, or for a removal or a query', async () => {
      const fromElsewhere = await answered();
      const other: Flow = { ...udp, id: 'udp:b', remote: { address: '192.0.2.99', port: 40000 } };
      expect((await registrar.answer(fromElsewhere.again(), other)).response.status).toBe(401); // nonce count replayed

      const late = await answered();
      now += 32_001;
      expect((await registrar.answer(late.again(), udp)).response.status).toBe(401);

      const removal = await answered({ expires: '0' });
      // Nothing is left to recognise it by: it goes through the transaction, which absorbs it.
      expect(removal.first.stateless).toBe(false);
      // Nor is anything for a query (no Contact), which only lists the bindings.
      const query = await answered({ contact: '' });
      expect(query.first.stateless).toBe(false);
    });

    it('keeps the transaction for a request without an RFC 3261 branch', async () => {
      const challenge = await registrar.handleRegister(register({}), udp);
      const auth = computeAuthorization(challenge.getHeaders('www-authenticate')[0]!, {
        username: '1001',
        password: users.get('example.test\n1001')!,
        method: 'REGISTER',
        uri: 'sip:example.test',
      });
      const text = serializeMessage(register({ auth }))
        .toString()
        .replace(/branch=z9hG4bK/, 'branch=rfc2543-');
      const res = await registrar.answer(parseMessage(Buffer.from(text)) as SipRequest, udp);
      expect(res.response.status).toBe(200);
      expect(res.stateless).toBe(false);
    });
  });

  it('answers a wrong password and an unknown user the same way', async () => {
    const wrong = await authed({ password: 'nope' });
    const unknown = await authed({ user: '9999', password: 'whatever' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.reason).toBe(unknown.reason);
  });

  it('blocks a source with 403 after repeated failures', async () => {
    for (let i = 0; i < 3; i++) expect((await authed({ password: 'bad' })).status).toBe(401);
    const blocked = await registrar.handleRegister(register({}), udp);
    expect(blocked.status).toBe(403);
    now += 301_000;
    expect((await registrar.handleRegister(register({}), udp)).status).toBe(401);
  });

  it('refuses a too brief interval with 423 and Min-Expires, caps a long one', async () => {
    const brief = await authed({ expires: '30' });
    expect(brief.status).toBe(423);
    expect(brief.getHeader('min-expires')).toBe('60');
    const long = await authed({ expires: '99999999999999999999' });
    expect(long.status).toBe(200);
    expect(long.getHeader('contact')).toMatch(/expires=3600$/);
  });

  it('lists every binding with its own expires and removes one with expires=0', async () => {
    await authed({ contact: '<sip:1001@192.0.2.7:40000>;expires=600' });
    now += 100_000;
    const two = await authed({ contact: '<sip:1001@192.0.2.9:5060>;expires=120' });
    expect(two.getHeaders('contact').sort()).toEqual([
      '<sip:1001@192.0.2.7:40000>;expires=500',
      '<sip:1001@192.0.2.9:5060>;expires=120',
    ]);
    const one = await authed({ contact: '<sip:1001@192.0.2.9:5060>;expires=0' });
    expect(one.getHeaders('contact')).toEqual(['<sip:1001@192.0.2.7:40000>;expires=500']);
    expect(events).toContain('unregistered:sip:1001@192.0.2.9:5060');
  });

  it('removes all bindings with Contact: * and Expires: 0, and rejects * with another Expires', async () => {
    await authed({ contact: '<sip:1001@192.0.2.7:40000>' });
    await authed({ contact: '<sip:1001@192.0.2.9:5060>' });
    expect((await authed({ contact: '*', expires: '10' })).status).toBe(400);
    const res = await authed({ contact: '*', expires: '0' });
    expect(res.status).toBe(200);
    expect(res.getHeaders('contact')).toEqual([]);
    expect(location.lookup('1001@example.test')).toEqual([]);
  });

  it('replaces a binding by +sip.instance when the Contact changes (RFC 5626)', async () => {
    const inst = ';+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1';
    await authed({ contact: `<sip:a1@192.0.2.7:40000;transport=ws>${inst}` }, ws);
    const res = await authed({ contact: `<sip:b2@df7jal23ls0d.invalid;transport=ws>${inst}` }, ws);
    expect(res.getHeaders('contact')).toHaveLength(1);
    expect(res.getHeader('contact')).toContain('df7jal23ls0d.invalid');
    expect(res.getHeader('require')).toBe('outbound');
    expect(location.lookup('1001@example.test')[0]!.flowId).toBe('ws:1');
    expect(flowsRegistered.get('ws:1')).toBe(true);
    expect(events.map((e) => e.split(':')[0])).toEqual(['registered', 'refreshed']);
  });

  it('rejects an out-of-order REGISTER with the same Call-ID and a lower CSeq', async () => {
    await authed({});
    cseq -= 10;
    const res = await authed({});
    expect(res.status).toBe(500);
  });

  it('keeps at most maxContacts bindings, dropping the oldest', async () => {
    for (let i = 0; i < 4; i++) {
      now += 1000;
      await authed({ contact: `<sip:1001@192.0.2.${10 + i}:5060>` });
    }
    const hosts = location.lookup('1001@example.test').map((b) => b.contactUri);
    expect(hosts).toHaveLength(3);
    expect(hosts).not.toContain('sip:1001@192.0.2.10:5060');
  });

  it('expires bindings on time with an expired event', async () => {
    await authed({ expires: '60' });
    now += 59_000;
    location.sweep();
    expect(location.lookup('1001@example.test')).toHaveLength(1);
    now += 1_000;
    location.sweep();
    expect(location.lookup('1001@example.test')).toHaveLength(0);
    expect(events).toContain('expired:sip:1001@192.0.2.7:40000');
  });

  it('refuses credentials of another user for this AOR', async () => {
    const challenge = await registrar.handleRegister(register({}), udp);
    const auth = computeAuthorization(challenge.getHeaders('www-authenticate')[0]!, {
      username: '1002',
      password: 'pw1002',
      method: 'REGISTER',
      uri: 'sip:example.test',
    });
    expect((await registrar.handleRegister(register({ auth }), udp)).status).not.toBe(200);
  });

  it('answers 404 for a domain not served here and 400 for a malformed Expires', async () => {
    const foreign = parseMessage(
      Buffer.from(
        'REGISTER sip:other.test SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\nFrom: <sip:1@other.test>;tag=1\r\nTo: <sip:1@other.test>\r\nCall-ID: x\r\nCSeq: 1 REGISTER\r\nContact: <sip:1@h>\r\nContent-Length: 0\r\n\r\n',
      ),
    ) as SipRequest;
    expect((await registrar.handleRegister(foreign, udp)).status).toBe(404);
    expect((await authed({ expires: 'soon' })).status).toBe(400);
  });
});
