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
import dgram from 'node:dgram';
import {
  DOMAIN,
  USERS,
  defaultMain,
  installSocketSeam,
  md5,
  measurement,
  option,
  startServer,
} from './inproc-harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => option(args, name, dflt);
const N = Number(opt('n', '60000'));
const WARMUP = Number(opt('warmup', '20000'));
const CONC = Number(opt('conc', '200'));
const DRIVER_ONLY = args.includes('--driver-only');
// --udp: real datagrams over 127.0.0.1 between a client socket of this process and the server's (the
// kernel's part included, but no second process to wake).
const UDP = args.includes('--udp');
const mainPath = opt('main', defaultMain());
// As SIPp does: every scenario comes from one socket (so a user's Contact is the same each time).
const PEER_PORT = 5999;

const seam = installSocketSeam({ passThrough: UDP });
seam.onSend = (port, bytes) => deliver(port, bytes);
let deliver = () => {};

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

const h = DRIVER_ONLY ? undefined : await startServer(mainPath, seam);

let peerSocket;
if (UDP && h) {
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
let measuredFrom = 0;

function toServer(client, bytes) {
  if (DRIVER_ONLY) setImmediate(deliver, PEER_PORT, fakeResponse(client, bytes), client);
  else if (UDP) peerSocket.send(bytes, h.port, '127.0.0.1');
  else h.deliver(PEER_PORT, bytes);
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
    meter.start();
    measuredFrom = done;
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

// --profile out.cpuprofile / --heap-profile out.heapprofile: the measured part only.
const meter = await measurement({
  cpuProfile: opt('profile'),
  heapProfile: opt('heap-profile'),
  intervalUs: Number(opt('profile-interval', '100')),
});
const t0 = process.hrtime.bigint();
await new Promise((resolve) => {
  finish = resolve;
  for (let i = 0; i < CONC; i++) {
    const client = { slot: i, call: 0, user: 0, state: 0 };
    clients.set(client.slot, client);
    next(client);
  }
});
const measured = done - measuredFrom;
const figures = await meter.stop(measured);
console.log(
  `register-inproc${DRIVER_ONLY ? ' (driver only)' : ''}: ${measured} scenarios measured after ${WARMUP} warm-up, ` +
    `conc ${CONC}, failed ${failed}; per scenario: ${figures}; total ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`,
);
peerSocket?.close();
await h?.close();
