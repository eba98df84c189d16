#!/usr/bin/env node
// The CPU one authenticated REGISTER scenario (REGISTER, 401, REGISTER with credentials, 200) costs the
// whole BUILT server, without the kernel: Handset starts in this process on PGlite, the bench users are
// imported, and datagrams are handed to its UDP socket's 'message' listeners while its sends are captured
// (dgram's Socket.prototype.send is replaced). Everything above the socket runs as in production: parse,
// transactions, digest, directory, bindings, write-behind to PGlite.
//   node bench/sip/register-inproc.mjs [--n 60000] [--warmup 20000] [--conc 200] [--main path/to/dist/main.js]
//   node bench/sip/register-inproc.mjs --profile out.cpuprofile   (a CPU profile of the measured part only)
//   node bench/sip/register-inproc.mjs --heap-profile out.heapprofile   (its allocations, sampled)
// Prints the CPU (user+system, every thread of the process) and wall time per scenario of the measured
// part. The driver's own work (building requests, the client's digest) is in the figure; `--driver-only`
// measures it alone (the same work, no server) so that it can be subtracted.
// Compare builds one after the other on the same machine; CPU figures move with the host.
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
const N = Number(opt('n', '60000'));
const WARMUP = Number(opt('warmup', '20000'));
const CONC = Number(opt('conc', '200'));
const DRIVER_ONLY = args.includes('--driver-only');
// --udp: real datagrams over 127.0.0.1 between a client socket of this process and the server's (the
// kernel's part included, but no second process to wake).
const UDP = args.includes('--udp');
const PROFILE = opt('profile', undefined);
// --heap-profile out.heapprofile: where the measured part allocates (sampled every 1 KB, garbage included).
const HEAP_PROFILE = opt('heap-profile', undefined);
const mainPath = opt('main', fileURLToPath(new URL('../../apps/server/dist/main.js', import.meta.url)));
const DOMAIN = '127.0.0.1';
const USERS = 10_000;
// As SIPp does: every scenario comes from one socket (so a user's Contact is the same each time).
const PEER_PORT = 5999;

// --- the socket seam: bound sockets are remembered, sends from the server socket are captured ---
const sockets = [];
const realBind = dgram.Socket.prototype.bind;
dgram.Socket.prototype.bind = function (...a) {
  sockets.push(this);
  return realBind.apply(this, a);
};
let deliver = () => {};
const realSend = dgram.Socket.prototype.send;
dgram.Socket.prototype.send = function (msg, ...rest) {
  if (UDP || !sockets.includes(this)) return realSend.call(this, msg, ...rest);
  const cb = typeof rest[rest.length - 1] === 'function' ? rest[rest.length - 1] : undefined;
  // send(msg, port, address, cb) as the UDP transport calls it.
  const port = rest[0];
  const bytes = Buffer.isBuffer(msg) ? msg : Array.isArray(msg) ? Buffer.concat(msg) : Buffer.from(msg);
  if (cb) process.nextTick(cb, null, bytes.length);
  setImmediate(deliver, port, bytes);
};

const md5 = (s) => createHash('md5').update(s).digest('hex');
const ha1 = [];
for (let u = 0; u < USERS; u++) ha1.push(md5(`${1000 + u}:${DOMAIN}:secret${1000 + u}`));

let callNo = 0;
function register(client, cseq, auth) {
  const user = client.user;
  const lines = [
    `REGISTER sip:${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${PEER_PORT};branch=z9hG4bK-${client.call}-${cseq};rport`,
    `From: <sip:${user}@${DOMAIN}>;tag=${client.call}SIPpTag00${client.call}`,
    `To: <sip:${user}@${DOMAIN}>`,
    `Call-ID: ${client.call}-${client.slot}@127.0.0.1`,
    `CSeq: ${cseq} REGISTER`,
    `Contact: <sip:${user}@127.0.0.1:${PEER_PORT};transport=UDP>`,
  ];
  if (auth) lines.push(auth);
  lines.push('Max-Forwards: 70', 'Expires: 3600', 'User-Agent: sipp-bench', 'Content-Length: 0', '', '');
  return Buffer.from(lines.join('\r\n'));
}

function authorization(client, challenge) {
  const realm = /realm="([^"]*)"/.exec(challenge)[1];
  const nonce = /nonce="([^"]*)"/.exec(challenge)[1];
  const uri = `sip:${DOMAIN}`;
  const cnonce = (client.call * 7919).toString(16);
  const nc = '00000001';
  const response = md5(`${ha1[client.user - 1000]}:${nonce}:${nc}:${cnonce}:auth:${md5(`REGISTER:${uri}`)}`);
  return `Authorization: Digest username="${client.user}",realm="${realm}",uri="${uri}",nonce="${nonce}",response="${response}",algorithm=MD5,cnonce="${cnonce}",qop=auth,nc=${nc}`;
}

let dataDir;
let server;
let serverSocket;
if (!DRIVER_ONLY) {
  const { startHandset } = await import(pathToFileURL(mainPath).href);
  const { loadServerConfig } = await import(pathToFileURL(join(mainPath, '../config/server-config.js')).href);
  dataDir = await mkdtemp(join(tmpdir(), 'handset-inproc-'));
  const config = loadServerConfig({
    HANDSET_DATA_DIR: dataDir,
    HANDSET_BIND: '127.0.0.1',
    HANDSET_PUBLIC_HOST: '127.0.0.1',
    HANDSET_SIP_PORT: '0',
    HANDSET_HTTP_PORT: '0',
    HANDSET_LOG_LEVEL: 'warn',
  });
  server = await startHandset(config, { runFile: false });
  await server.directory.addDomain(DOMAIN);
  const csv = ['ext,password'];
  for (let u = 0; u < USERS; u++) csv.push(`${1000 + u},secret${1000 + u}`);
  await server.directory.importUsers(DOMAIN, csv.join('\n'));
  const port = server.sipPorts.udp;
  serverSocket = sockets.find((s) => {
    try {
      return s.address().port === port;
    } catch {
      return false;
    }
  });
  if (!serverSocket) throw new Error('server UDP socket not found');
}

let peerSocket;
if (UDP && !DRIVER_ONLY) {
  peerSocket = dgram.createSocket('udp4');
  await new Promise((resolve) => peerSocket.bind(PEER_PORT, '127.0.0.1', resolve));
  peerSocket.setRecvBufferSize(4 << 20);
  peerSocket.on('message', (bytes) => deliver(PEER_PORT, bytes));
}
const clients = new Map();
let started = 0;
let done = 0;
let failed = 0;
let finish;
const total = WARMUP + N;
let mark;

function toServer(client, bytes) {
  const rinfo = { address: '127.0.0.1', family: 'IPv4', port: PEER_PORT, size: bytes.length };
  if (DRIVER_ONLY) setImmediate(deliver, PEER_PORT, fakeResponse(client, bytes), client);
  else if (UDP) peerSocket.send(bytes, serverSocket.address().port, '127.0.0.1');
  else serverSocket.emit('message', bytes, rinfo);
}
// --driver-only: what the server would answer, without a server (a fixed challenge, then 200).
const fakeChallenge = Buffer.from(
  'SIP/2.0 401 Unauthorized\r\nWWW-Authenticate: Digest realm="127.0.0.1", nonce="' +
    'a'.repeat(48) +
    '", qop="auth"\r\n\r\n',
);
const fakeOk = Buffer.from('SIP/2.0 200 OK\r\n\r\n');
const fakeResponse = (client) => (client.state === 1 ? fakeChallenge : fakeOk);

function next(client) {
  if (started >= total) {
    clients.delete(client.slot);
    if (clients.size === 0) finish();
    return;
  }
  if (started === WARMUP) {
    if (profiler && PROFILE) void profiler.post('Profiler.start');
    if (profiler && HEAP_PROFILE)
      void profiler.post('HeapProfiler.startSampling', {
        samplingInterval: 1024,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    mark = { cpu: process.cpuUsage(), t: process.hrtime.bigint(), done };
  }
  started++;
  client.call = ++callNo;
  client.user = 1000 + (client.call % USERS);
  client.state = 1;
  toServer(client, register(client, 1));
}

deliver = (_port, bytes, known) => {
  const text = bytes.toString('latin1');
  // Responses find their scenario by Call-ID (`<call>-<slot>@127.0.0.1`).
  const client = known ?? clients.get(Number(/\r\nCall-ID: *\d+-(\d+)@/i.exec(text)?.[1]));
  if (!client) return;
  const status = Number(text.slice(8, 11));
  if (client.state === 1 && status === 401) {
    const m = /\r\nWWW-Authenticate: ([^\r]*)/i.exec(text);
    client.state = 2;
    toServer(client, register(client, 2, authorization(client, m[1])));
  } else if (client.state === 2 && status === 200) {
    done++;
    next(client);
  } else {
    failed++;
    next(client);
  }
};

let profiler;
if (PROFILE || HEAP_PROFILE) {
  profiler = new Session();
  profiler.connect();
}
if (PROFILE) {
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
}
if (HEAP_PROFILE) await profiler.post('HeapProfiler.enable');
const t0 = process.hrtime.bigint();
await new Promise((resolve) => {
  finish = resolve;
  for (let i = 0; i < CONC; i++) {
    const client = { slot: i, call: 0, user: 0, state: 0 };
    clients.set(client.slot, client);
    next(client);
  }
});
const cpu = process.cpuUsage(mark.cpu);
const wall = Number(process.hrtime.bigint() - mark.t) / 1e3;
if (profiler && PROFILE) {
  const { profile } = await profiler.post('Profiler.stop');
  await writeFile(PROFILE, JSON.stringify(profile));
}
if (profiler && HEAP_PROFILE) {
  const { profile } = await profiler.post('HeapProfiler.stopSampling');
  await writeFile(HEAP_PROFILE, JSON.stringify(profile));
}
const measured = done - mark.done;
const per = (us) => (us / measured).toFixed(1);
console.log(
  `register-inproc${DRIVER_ONLY ? ' (driver only)' : ''}: ${measured} scenarios measured after ${WARMUP} warm-up, ` +
    `conc ${CONC}, failed ${failed}; per scenario: cpu ${per(cpu.user + cpu.system)} us ` +
    `(user ${per(cpu.user)}, system ${per(cpu.system)}), wall ${per(wall)} us; total ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`,
);
peerSocket?.close();
if (server) await server.close();
if (dataDir) await rm(dataDir, { recursive: true, force: true });
