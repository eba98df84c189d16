#!/usr/bin/env node
// The floor for `run.sh register` on one Node event loop: the least a Node UDP server can do for SIPp's
// REGISTER scenario (REGISTER, 401 with a MAC'd nonce and qop=auth, REGISTER with credentials checked
// (MD5, nonce MAC, nonce count), a binding kept in a Map, 200 with the Contact). No RFC 3261 parser, no
// transactions, no persistence, no events: a calibration point, not a registrar. Run against it in the
// same hour as `npm run bench:sip` to tell the cost of Node's sockets and event loop from Handset's own.
//   node bench/sip/node-floor.mjs [--port 47000]  &
//   bash bench/sip/run.sh register 127.0.0.1:47000 30000 200
// After each burst (2 s without a request) it prints the REGISTERs answered with 200 and its own CPU
// (user+system, every thread) per such scenario. Users are those of run.sh: <user>, password secret<user>,
// domain 127.0.0.1. Stop it with Ctrl-C or kill.
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { option } from './inproc-harness.mjs';

const PORT = Number(option(process.argv.slice(2), 'port', '47000'));
const REALM = '127.0.0.1';
const key = crypto.randomBytes(32).toString('hex');
const mac = (s) => crypto.hash('sha256', key + s).slice(0, 16);
const md5 = (s) => crypto.hash('md5', s);
const bindings = new Map();
const nonceCounts = new Map();
let nonceSeq = 0;
let answered = 0;
let burstStart;
let idle;

const sock = dgram.createSocket('udp4');
sock.on('message', (buf, rinfo) => {
  const text = buf.toString('latin1');
  const lines = text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
  if (!lines[0].startsWith('REGISTER ')) return;
  let echo = '';
  let auth;
  let contact;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    if (name === 'via' || name === 'from' || name === 'call-id' || name === 'cseq') echo += line + '\r\n';
    else if (name === 'to') echo += line + ';tag=floor\r\n';
    else if (name === 'authorization') auth = line.slice(colon + 1).trim();
    else if (name === 'contact') contact = line.slice(colon + 1).trim();
  }
  burstStart ??= process.cpuUsage();
  clearTimeout(idle);
  idle = setTimeout(report, 2000);
  if (auth === undefined) {
    const stamp = `${Date.now().toString(16)}.${(++nonceSeq).toString(16)}`;
    const challenge = `Digest realm="${REALM}", nonce="${stamp}${mac(stamp)}", qop="auth", algorithm=MD5`;
    sock.send(
      `SIP/2.0 401 Unauthorized\r\n${echo}WWW-Authenticate: ${challenge}\r\nContent-Length: 0\r\n\r\n`,
      rinfo.port,
      rinfo.address,
    );
    return;
  }
  const p = {};
  for (const m of auth.slice(7).matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)) p[m[1]] = m[2] ?? m[3];
  const stamp = p.nonce.slice(0, -16);
  if (mac(stamp) !== p.nonce.slice(-16)) return;
  const ha1 = md5(`${p.username}:${REALM}:secret${p.username}`);
  const ha2 = md5(`REGISTER:${p.uri}`);
  if (md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`) !== p.response) return;
  const nc = parseInt(p.nc, 16);
  if ((nonceCounts.get(p.nonce) ?? 0) >= nc) return;
  nonceCounts.set(p.nonce, nc);
  bindings.set(p.username, { contact, expires: Date.now() + 3600_000 });
  answered++;
  sock.send(
    `SIP/2.0 200 OK\r\n${echo}Contact: ${contact};expires=3600\r\nContent-Length: 0\r\n\r\n`,
    rinfo.port,
    rinfo.address,
  );
});

function report() {
  const used = process.cpuUsage(burstStart);
  const us = (used.user + used.system) / Math.max(1, answered);
  // The 2 s of idle waiting costs next to nothing; it is included.
  console.log(`node-floor: ${answered} REGISTERs answered 200; cpu ${us.toFixed(1)} us per scenario`);
  answered = 0;
  burstStart = undefined;
  nonceCounts.clear();
}

sock.bind(PORT, '127.0.0.1', () => console.log(`node-floor: udp 127.0.0.1:${PORT}`));
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
