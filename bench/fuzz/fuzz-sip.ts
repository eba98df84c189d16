/**
 * Bounded SIP fuzzer: `npm run fuzz:sip -- [--count N] [--seed S]` (default 50 000 messages).
 *
 * Starts the built Handset as a child process, provisions a domain and two users, then sends N
 * mutated messages from eight source addresses (127.0.0.2 ... 127.0.0.9) over UDP, TCP and WS.
 * The seeds are valid requests of every method Handset handles, half of them carrying digest
 * credentials for a fresh challenge (so that mutations reach the registrar's and the proxy's
 * paths behind authentication). Mutations: bit flips, byte insertions and deletions, truncation,
 * duplicated and dropped header lines, hostile header values, wrong Content-Length, bare LF.
 *
 * Pass criteria (exit code 1 otherwise): the server never exits, answers no 5xx but 505 (and
 * RFC 3261 §10.3's 500 for an out-of-order REGISTER, counted apart), logs no error, still answers
 * OPTIONS on every transport afterwards, and the V8 heap in use 35 s after the run is within 10% of
 * what it was after the warm-up (the first tenth of the messages). The resident set size is reported
 * too; V8 keeps pages it grew into, so it is not the criterion.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { computeAuthorization } from '@handset/sip';
import WebSocket from 'ws';
import { createTestDatabase } from '../../apps/server/src/store/test-databases.js';
import { startHandset, type HandsetProcess } from '../../test/e2e/support/handset.js';

const DOMAIN = 'fuzz.test';
const USERS = { '100': 'fuzz-pw-100', '101': 'fuzz-pw-101' } as const;
const SOURCES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);

const args = process.argv.slice(2);
const argOf = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const COUNT = argOf('count', 50_000);
let rngState = argOf('seed', 4475) >>> 0 || 1;

/** xorshift32: a reproducible run for a given --seed. */
function rand(n: number): number {
  rngState ^= rngState << 13;
  rngState ^= rngState >>> 17;
  rngState ^= rngState << 5;
  return (rngState >>> 0) % n;
}
const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;

type Transport = 'udp' | 'tcp' | 'ws';

interface Stats {
  sent: number;
  responses: number;
  byClass: Record<string, number>;
  serverErrors: Map<string, number>;
  outOfOrder: number;
}

const stats: Stats = { sent: 0, responses: 0, byClass: {}, serverErrors: new Map(), outOfOrder: 0 };

function countResponses(text: string): void {
  for (const m of text.matchAll(/(?:^|\r?\n)SIP\/2\.0 (\d{3}) ([^\r\n]*)/g)) {
    const status = Number(m[1]);
    stats.responses++;
    const cls = `${Math.floor(status / 100)}xx`;
    stats.byClass[cls] = (stats.byClass[cls] ?? 0) + 1;
    if (status >= 500 && status !== 505) {
      if (status === 500 && /Out of order REGISTER/.test(m[2]!)) stats.outOfOrder++;
      else stats.serverErrors.set(`${status} ${m[2]}`, (stats.serverErrors.get(`${status} ${m[2]}`) ?? 0) + 1);
    }
  }
}

/** One source address's sockets. */
class Peer {
  udp!: UdpSocket;
  tcp: Socket | undefined;
  ws: WebSocket | undefined;
  /** The last responses' text per transport, for answering challenges (nonces are bound to the flow). */
  readonly last: Record<Transport, string> = { udp: '', tcp: '', ws: '' };
  constructor(
    readonly address: string,
    private readonly h: HandsetProcess,
  ) {}

  async open(): Promise<void> {
    this.udp = createSocket('udp4');
    this.udp.on('message', (m) => this.onText('udp', m.toString('latin1')));
    this.udp.on('error', () => {});
    await new Promise<void>((r) => this.udp.bind(0, this.address, r));
  }

  onText(transport: Transport, text: string): void {
    countResponses(text);
    this.last[transport] = (this.last[transport] + text).slice(-20_000);
  }

  get udpPort(): number {
    return this.udp.address().port;
  }

  async send(transport: Transport, data: Buffer): Promise<void> {
    stats.sent++;
    if (transport === 'udp') {
      this.udp.send(data, this.h.sipPort, '127.0.0.1');
      return;
    }
    if (transport === 'tcp') {
      if (this.tcp === undefined || this.tcp.destroyed) {
        const s = connect({ host: '127.0.0.1', port: this.h.sipPort, localAddress: this.address });
        s.on('data', (d: Buffer) => this.onText('tcp', d.toString('latin1')));
        s.on('error', () => {});
        await new Promise<void>((r) => {
          s.once('connect', r);
          s.once('close', () => r());
        });
        this.tcp = s;
      }
      if (!this.tcp.destroyed) this.tcp.write(data);
      return;
    }
    if (this.ws === undefined || this.ws.readyState !== WebSocket.OPEN) {
      const ws = new WebSocket(`ws://127.0.0.1:${this.h.httpPort}/sip`, 'sip', { localAddress: this.address });
      ws.on('message', (d: Buffer) => this.onText('ws', d.toString('latin1')));
      ws.on('error', () => {});
      await new Promise<void>((r) => {
        ws.once('open', () => r());
        ws.once('close', () => r());
      });
      this.ws = ws;
    }
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(data.toString('latin1'));
  }

  close(): void {
    this.udp.close();
    this.tcp?.destroy();
    this.ws?.terminate();
  }
}

let counter = 0;
/** A valid request of `method` from `peer` over `transport`. */
function seed(method: string, peer: Peer, transport: Transport, withAuth: boolean): string {
  const n = ++counter;
  const user = pick(Object.keys(USERS)) as keyof typeof USERS;
  const auth = withAuth ? credentialsFrom(peer, transport, method, user) : undefined;
  const other = user === '100' ? '101' : '100';
  const sentBy = transport === 'ws' ? `${n}.invalid` : `${peer.address}:${peer.udpPort}`;
  const body =
    method === 'INVITE'
      ? `v=0\r\no=- ${n} 1 IN IP4 ${peer.address}\r\ns=-\r\nc=IN IP4 ${peer.address}\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n`
      : method === 'MESSAGE'
        ? 'hello'
        : '';
  const uri = method === 'REGISTER' ? `sip:${DOMAIN}` : `sip:${other}@${DOMAIN}`;
  const lines = [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/${transport.toUpperCase()} ${sentBy};rport;branch=z9hG4bKfz${n}`,
    'Max-Forwards: 70',
    `From: <sip:${user}@${DOMAIN}>;tag=f${n}`,
    `To: <${method === 'REGISTER' ? `sip:${user}@${DOMAIN}` : uri}>`,
    `Call-ID: fuzz-${n}@${peer.address}`,
    `CSeq: ${n} ${method}`,
    `Contact: <sip:${user}@${sentBy}${transport === 'udp' ? '' : `;transport=${transport}`}>`,
  ];
  if (method === 'REGISTER') lines.push(`Expires: ${pick(['0', '60', '300', '3600'])}`);
  if (auth !== undefined) lines.push(`${method === 'REGISTER' ? 'Authorization' : 'Proxy-Authorization'}: ${auth}`);
  if (body.length > 0) lines.push(`Content-Type: ${method === 'INVITE' ? 'application/sdp' : 'text/plain'}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** Credentials for `user` answering the last challenge `peer` received over `transport`, when there is one. */
function credentialsFrom(
  peer: Peer,
  transport: Transport,
  method: string,
  user: keyof typeof USERS,
): string | undefined {
  const all = [
    ...peer.last[transport].matchAll(/(?:WWW|Proxy)-Authenticate: (Digest [^\r\n]*algorithm=MD5[^\r\n]*)/gi),
  ];
  const m = all.at(-1);
  if (m === undefined) return undefined;
  try {
    return computeAuthorization(m[1]!, {
      username: user,
      password: USERS[user],
      method,
      uri: method === 'REGISTER' ? `sip:${DOMAIN}` : `sip:${user === '100' ? '101' : '100'}@${DOMAIN}`,
    });
  } catch {
    return undefined;
  }
}

const NASTY = [
  '',
  ';;;;',
  '<sip:@>',
  '"unterminated',
  '%00%ff',
  '\u0000',
  'a'.repeat(3000),
  '999999999999999999999',
  '-1',
  'sip:[::1',
  ',,,,',
  'Digest ' + 'x=y,'.repeat(200),
  '\r\n ',
  '¿ünïcødé?',
];
const HEADERS = [
  'Via',
  'From',
  'To',
  'Call-ID',
  'CSeq',
  'Contact',
  'Max-Forwards',
  'Content-Length',
  'Expires',
  'Route',
  'Record-Route',
  'Authorization',
  'Proxy-Authorization',
  'Require',
  'Proxy-Require',
  'Content-Type',
  'Supported',
];

function mutate(text: string): Buffer {
  let b = Buffer.from(text, 'latin1');
  const rounds = 1 + rand(3);
  for (let r = 0; r < rounds; r++) {
    const lines = b.toString('latin1').split('\r\n');
    switch (rand(10)) {
      case 0: {
        const i = rand(b.length);
        b[i] = b[i]! ^ (1 << rand(8));
        break;
      }
      case 1: {
        const i = rand(b.length + 1);
        b = Buffer.concat([b.subarray(0, i), Buffer.from([rand(256)]), b.subarray(i)]);
        break;
      }
      case 2: {
        const i = rand(b.length);
        b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1 + rand(8))]);
        break;
      }
      case 3:
        b = b.subarray(0, rand(b.length + 1));
        break;
      case 4: {
        const i = 1 + rand(Math.max(1, lines.length - 3));
        lines.splice(i, 0, lines[i] ?? '');
        b = Buffer.from(lines.join('\r\n'), 'latin1');
        break;
      }
      case 5: {
        const i = 1 + rand(Math.max(1, lines.length - 3));
        lines.splice(i, 1);
        b = Buffer.from(lines.join('\r\n'), 'latin1');
        break;
      }
      case 6: {
        const i = 1 + rand(Math.max(1, lines.length - 3));
        lines.splice(i, 0, `${pick(HEADERS)}: ${pick(NASTY)}`);
        b = Buffer.from(lines.join('\r\n'), 'latin1');
        break;
      }
      case 7:
        b = Buffer.from(
          b
            .toString('latin1')
            .replace(/Content-Length: \d+/, `Content-Length: ${pick(['0', '5', '99999', '-3', 'x', '4294967296'])}`),
          'latin1',
        );
        break;
      case 8:
        b = Buffer.from(b.toString('latin1').replace(/\r\n/g, rand(2) === 0 ? '\n' : '\r\n'), 'latin1');
        break;
      default: {
        // A header value replaced by a hostile one.
        const i = 1 + rand(Math.max(1, lines.length - 3));
        const colon = lines[i]?.indexOf(':') ?? -1;
        if (colon > 0) lines[i] = `${lines[i]!.slice(0, colon)}: ${pick(NASTY)}`;
        b = Buffer.from(lines.join('\r\n'), 'latin1');
      }
    }
  }
  return b.length > 60_000 ? b.subarray(0, 60_000) : b;
}

/** V8 heap in use, from /metrics (prom-client's default metrics). */
async function heapUsed(h: HandsetProcess): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${h.httpPort}/metrics`)).text();
  const m = /^handset_(?:process_)?nodejs_heap_size_used_bytes (\S+)/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const started = Date.now();
  // PostgreSQL when it is there (a throw-away database), else the embedded PGlite.
  const db = await createTestDatabase();
  const h = await startHandset(
    { HANDSET_AUTH_MAX_FAILURES: '1000000', HANDSET_LOG_LEVEL: 'warn', ...(db ? { DATABASE_URL: db.url } : {}) },
    { startTimeoutMs: 180_000 },
  );
  let exitCode: number | null = null;
  h.child.once('exit', (code, signal) => (exitCode = code ?? (signal ? 128 : 0)));
  await h.cli('domains', 'add', DOMAIN);
  for (const [ext, password] of Object.entries(USERS))
    await h.cli('users', 'add', `${ext}@${DOMAIN}`, '--password', password);
  const peers = SOURCES.map((a) => new Peer(a, h));
  for (const p of peers) await p.open();

  const methods = ['REGISTER', 'REGISTER', 'INVITE', 'OPTIONS', 'MESSAGE', 'BYE', 'CANCEL', 'SUBSCRIBE', 'ACK', 'INFO'];
  const transports: Transport[] = ['udp', 'udp', 'tcp', 'ws'];
  const warmup = Math.max(1, Math.floor(COUNT / 10));
  let baseline = NaN;
  let heapBaseline = NaN;
  for (let i = 0; i < COUNT; i++) {
    if (exitCode !== null) break;
    const peer = peers[i % peers.length]!;
    const transport = pick(transports);
    const method = pick(methods);
    // Half the seeds carry credentials answering the challenge this source saw last on that transport.
    const text = seed(method, peer, transport, rand(2) === 0);
    // One in eight goes out unmutated, to fetch fresh challenges and reach the paths behind them.
    await peer.send(transport, rand(8) === 0 ? Buffer.from(text, 'latin1') : mutate(text));
    if (i % 200 === 199) await sleep(5); // let answers drain: a bounded rate, not a flood test
    if (i + 1 === warmup) {
      await sleep(1000);
      baseline = rssOf(h.child.pid!);
      heapBaseline = await heapUsed(h);
    }
  }
  // Time for the backlog to drain and the transactions of the run to end (64*T1 = 32 s at most).
  await sleep(35_000);
  const after = exitCode === null ? rssOf(h.child.pid!) : NaN;
  const heapAfter = exitCode === null ? await heapUsed(h) : NaN;

  // Still serving, on every transport.
  const alive: Record<Transport, boolean> = { udp: false, tcp: false, ws: false };
  if (exitCode === null) {
    for (const transport of ['udp', 'tcp', 'ws'] as const) {
      const probe = new Peer('127.0.0.1', h);
      await probe.open();
      probe.tcp?.destroy();
      const branch = `z9hG4bKalive${transport}`;
      await probe.send(
        transport,
        Buffer.from(
          `OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/${transport.toUpperCase()} 127.0.0.1:${probe.udpPort};rport;branch=${branch}\r\nMax-Forwards: 70\r\nFrom: <sip:probe@${DOMAIN}>;tag=p\r\nTo: <sip:127.0.0.1>\r\nCall-ID: alive-${transport}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
        ),
      );
      for (let t = 0; t < 200 && !alive[transport]; t++) {
        await sleep(50);
        alive[transport] = new RegExp(`SIP/2\\.0 200 [^\\r]*\\r\\nVia: [^\\r]*${branch}`).test(probe.last[transport]);
      }
      probe.close();
    }
  }
  const crashed = exitCode !== null;
  const errorLines = h
    .output()
    .split('\n')
    .filter((l) => /"level":(50|60)/.test(l));
  for (const p of peers) p.close();
  await h.stop();
  await db?.drop();

  const growth = after / baseline - 1;
  const report = {
    messages: stats.sent,
    seconds: Math.round((Date.now() - started) / 1000),
    responses: stats.responses,
    byClass: stats.byClass,
    serverErrors: Object.fromEntries(stats.serverErrors),
    outOfOrder500: stats.outOfOrder,
    crashed,
    errorLogLines: errorLines.length,
    stillServing: alive,
    rssAfterWarmupMiB: +(baseline / 2 ** 20).toFixed(1),
    rssAfterRunMiB: +(after / 2 ** 20).toFixed(1),
    rssGrowthPercent: +(growth * 100).toFixed(1),
    heapAfterWarmupMiB: +(heapBaseline / 2 ** 20).toFixed(1),
    heapAfterRunMiB: +(heapAfter / 2 ** 20).toFixed(1),
    heapGrowthPercent: +((heapAfter / heapBaseline - 1) * 100).toFixed(1),
  };
  console.log(JSON.stringify(report, null, 2));
  for (const l of errorLines.slice(0, 5)) console.log(l);
  const ok =
    !crashed &&
    stats.serverErrors.size === 0 &&
    errorLines.length === 0 &&
    alive.udp &&
    alive.tcp &&
    alive.ws &&
    heapAfter / heapBaseline - 1 <= 0.1;
  console.log(ok ? 'fuzz:sip PASSED' : 'fuzz:sip FAILED');
  process.exitCode = ok ? 0 : 1;
}

await main();
