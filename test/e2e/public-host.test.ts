/**
 * The built server started as a newcomer starts it: listening on every interface and without
 * HANDSET_PUBLIC_HOST. What it advertises to phones (Via and Record-Route of a proxied INVITE,
 * the Windows activation link, the start-up record) must be an address of this host that other
 * machines can reach, never loopback.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { computeAuthorization } from '@handset/sip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHandset, type HandsetProcess } from './support/handset.js';

/** The host's addresses other machines could use (what the server should pick from). */
const hostAddresses = Object.values(networkInterfaces())
  .flat()
  .filter((a) => a !== undefined && !a.internal && !a.address.startsWith('fe80'))
  .map((a) => a!.address);

let h: HandsetProcess;
let token: string;

/** A UDP SIP user agent on 127.0.0.1 that collects every message it receives. */
class RawUa {
  readonly received: string[] = [];
  private constructor(readonly socket: Socket) {
    socket.on('message', (m) => this.received.push(m.toString('latin1')));
  }
  static async open(): Promise<RawUa> {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    return new RawUa(s);
  }
  get port(): number {
    return this.socket.address().port;
  }
  send(text: string): void {
    this.socket.send(text, h.sipPort, '127.0.0.1');
  }
  async waitFor(pred: (m: string) => boolean, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.received.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no matching message; got:\n${this.received.join('\n---\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  close(): void {
    this.socket.close();
  }
}

const header = (msg: string, name: string) =>
  msg
    .split('\r\n')
    .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((l) => l.slice(name.length + 1).trim());

function request(
  ua: RawUa,
  o: {
    method: string;
    uri: string;
    from: string;
    to: string;
    callId: string;
    cseq: number;
    extra?: string;
    body?: string;
  },
): string {
  const body = o.body ?? '';
  return (
    `${o.method} ${o.uri} SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:${ua.port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:${o.from}>;tag=${o.callId.slice(0, 8)}\r\nTo: <sip:${o.to}>\r\n` +
    `Call-ID: ${o.callId}\r\nCSeq: ${o.cseq} ${o.method}\r\nContact: <sip:${o.from.split('@')[0]}@127.0.0.1:${ua.port}>\r\n` +
    `${o.extra ?? ''}${body ? 'Content-Type: application/sdp\r\n' : ''}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** Sends a request, answers a 401/407 challenge once, and resolves with the final response. */
async function authenticated(
  ua: RawUa,
  o: Parameters<typeof request>[1],
  user: string,
  password: string,
): Promise<string> {
  ua.send(request(ua, o));
  const challenge = await ua.waitFor((m) => /^SIP\/2\.0 40[17] /.test(m) && m.includes(`Call-ID: ${o.callId}`));
  const is407 = challenge.startsWith('SIP/2.0 407');
  const value = header(challenge, is407 ? 'Proxy-Authenticate' : 'WWW-Authenticate')[0]!;
  if (o.method === 'INVITE') {
    // RFC 3261 §17.1.1.3: the ACK for a non-2xx final response.
    const via = header(challenge, 'Via')[0]!;
    ua.send(
      `ACK ${o.uri} SIP/2.0\r\nVia: ${via}\r\nMax-Forwards: 70\r\nFrom: ${header(challenge, 'From')[0]}\r\n` +
        `To: ${header(challenge, 'To')[0]}\r\nCall-ID: ${o.callId}\r\nCSeq: ${o.cseq} ACK\r\nContent-Length: 0\r\n\r\n`,
    );
  }
  const auth = computeAuthorization(value, { username: user, password, method: o.method, uri: o.uri });
  const next = { ...o, cseq: o.cseq + 1, extra: `${is407 ? 'Proxy-Authorization' : 'Authorization'}: ${auth}\r\n` };
  ua.send(request(ua, next));
  return ua.waitFor(
    (m) => m.startsWith('SIP/2.0 ') && !/^SIP\/2\.0 1\d\d /.test(m) && m.includes(`CSeq: ${next.cseq} `),
  );
}

beforeAll(async () => {
  h = await startHandset({ HANDSET_BIND: '0.0.0.0', HANDSET_PUBLIC_HOST: '' });
  await h.cli('domains', 'add', 'lan.example');
  await h.cli('users', 'add', '1001@lan.example', '--password', 'caller-Secret-1');
  await h.cli('users', 'add', '1002@lan.example', '--password', 'callee-Secret-2');
  await h.cli(
    'users',
    'add',
    '1003@lan.example',
    '--password',
    'owner-Secret-3',
    '--email',
    'owner@lan.example',
    '--role',
    'owner',
    '--login-password',
    'owner-login-Secret',
  );
  token = (await h.cli('tokens', 'create', 'owner@lan.example')).trim().split('\n').pop()!;
}, 600_000);

afterAll(async () => {
  await h?.stop();
});

describe.skipIf(hostAddresses.length === 0)('no HANDSET_PUBLIC_HOST, listening on every interface', () => {
  it('advertises an address of this host, not loopback, in the start-up record', () => {
    const record = h
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map(
        (l) =>
          JSON.parse(l) as {
            msg?: string;
            startup?: { publicHost: string; publicHostSource: string; warnings: string[] };
          },
      )
      .find((r) => r.startup !== undefined);
    expect(record?.startup?.publicHost).toBeDefined();
    expect(hostAddresses).toContain(record!.startup!.publicHost);
    expect(['route', 'interface']).toContain(record!.startup!.publicHostSource);
    expect(record!.startup!.warnings).toEqual([]);
  });

  it('puts that address in the Via and Record-Route of an INVITE it proxies', async () => {
    const callee = await RawUa.open();
    const caller = await RawUa.open();
    try {
      const reg = await authenticated(
        callee,
        {
          method: 'REGISTER',
          uri: 'sip:lan.example',
          from: '1002@lan.example',
          to: '1002@lan.example',
          callId: randomBytes(8).toString('hex'),
          cseq: 1,
          extra: 'Expires: 300\r\n',
        },
        '1002',
        'callee-Secret-2',
      );
      expect(reg).toMatch(/^SIP\/2\.0 200 /);
      const sdp = `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n`;
      const callId = randomBytes(8).toString('hex');
      void authenticated(
        caller,
        {
          method: 'INVITE',
          uri: 'sip:1002@lan.example',
          from: '1001@lan.example',
          to: '1002@lan.example',
          callId,
          cseq: 1,
          body: sdp,
        },
        '1001',
        'caller-Secret-1',
      ).catch(() => undefined);
      const invite = await callee.waitFor((m) => m.startsWith('INVITE ') && m.includes(callId));
      const topVia = header(invite, 'Via')[0]!;
      const recordRoute = header(invite, 'Record-Route').join(',');
      const sentBy = /^SIP\/2\.0\/UDP ([^;]+)/.exec(topVia)?.[1] ?? '';
      const viaHost = sentBy.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
      expect(hostAddresses).toContain(viaHost);
      // Each Record-Route URI (a flow token in the user part, then our host and port).
      const routeHosts = [...recordRoute.matchAll(/<sips?:(?:[^@>]*@)?([^;>]+)/g)].map((m) => m[1]);
      expect(routeHosts.length).toBeGreaterThan(0);
      const ours = `${viaHost.includes(':') ? `[${viaHost}]` : viaHost}:${h.sipPort}`;
      for (const rr of routeHosts) expect(rr).toBe(ours);
      // Let the callee decline so the server's transaction ends quietly.
      callee.send(
        `SIP/2.0 486 Busy Here\r\n${header(invite, 'Via')
          .map((v) => `Via: ${v}`)
          .join('\r\n')}\r\n` +
          `From: ${header(invite, 'From')[0]}\r\nTo: ${header(invite, 'To')[0]};tag=busy\r\nCall-ID: ${callId}\r\n` +
          `CSeq: ${header(invite, 'CSeq')[0]}\r\nContent-Length: 0\r\n\r\n`,
      );
    } finally {
      callee.close();
      caller.close();
    }
  });

  it('builds activation links (the Windows softphone link) on that address', async () => {
    const base = `http://127.0.0.1:${h.httpPort}/api/v1`;
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const put = await fetch(`${base}/settings/sessiontalk.windows_softphone`, {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ value: true }),
    });
    expect(put.status).toBe(200);
    const out = await h.cli('activations', 'create', '1001@lan.example');
    const link = /windows softphone link: (\S+)/.exec(out)?.[1];
    expect(link).toBeDefined();
    const decoded = decodeURIComponent(link!);
    const url = /https?:\/\/([^/:\]]+|\[[^\]]+\])(:\d+)?\//.exec(decoded);
    expect(url, decoded).not.toBeNull();
    expect(hostAddresses).toContain(url![1]!.replace(/^\[|\]$/g, ''));
  });
});
