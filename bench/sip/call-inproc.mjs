#!/usr/bin/env node
// The CPU one authenticated call (run.sh call: INVITE, 407, ACK, INVITE with credentials, 100, 200, ACK,
// BYE, 200, through Handset to a callee) costs the whole BUILT server, without the kernel: the server
// runs in this process on PGlite (inproc-harness.mjs), the caller (SIPp's call-uac.xml) and the callee
// 9999 (call-uas.xml) are played here, datagrams go in as 'message' events and the server's sends are
// captured. Everything above the socket runs as in production: parse, transactions, proxy auth, routing,
// Record-Route, forwarding, dialog tracking, CDRs written to PGlite in its thread.
//   node bench/sip/call-inproc.mjs [--n 10000] [--warmup 4000] [--conc 200] [--pause 100] [--main dist/main.js]
//   node bench/sip/call-inproc.mjs --profile out.cpuprofile [--profile-interval us] | --heap-profile out.heapprofile
//   node --expose-gc bench/sip/call-inproc.mjs   also prints the heap the calls leave behind (their
//                                                 transactions' timers, 32 s, have not run out yet)
//                                                 [--heap-snapshot out.heapsnapshot] and writes it
// Prints the CPU (user+system, every thread of the process) and wall time per call of the measured part;
// the driver's own work (building and reading messages, the caller's digest) is included.
// Compare builds one after the other on the same machine; CPU figures move with the host.
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
const N = Number(option(args, 'n', '10000'));
const WARMUP = Number(option(args, 'warmup', '4000'));
const CONC = Number(option(args, 'conc', '200'));
const PAUSE_MS = Number(option(args, 'pause', '100'));
const mainPath = option(args, 'main', defaultMain());
const UAC_PORT = 5999;
const UAS_PORT = 6000;
const CALLEE = 9999;
const SDP =
  'v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';

const seam = installSocketSeam();
const h = await startServer(mainPath, seam);

/** The head's lines (no start line), and a header's lines by name (full or compact form). */
const headLines = (text) => text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n');
const linesOf = (lines, re) => lines.filter((l) => re.test(l));
const VIA = /^(via|v)\s*:/i;
const FROM = /^(from|f)\s*:/i;
const TO = /^(to|t)\s*:/i;
const CALL_ID = /^(call-id|i)\s*:/i;
const CSEQ = /^cseq\s*:/i;
const RR = /^record-route\s*:/i;
const value = (line) => line.slice(line.indexOf(':') + 1).trim();
const message = (start, headers, body = '') =>
  Buffer.from(`${start}\r\n${headers.join('\r\n')}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

// --- the callee (call-uas.xml): registered once, answers every INVITE with 200, every BYE with 200 ---
function uas(bytes) {
  const text = bytes.toString('latin1');
  if (text.startsWith('SIP/2.0')) return registerResponse(text);
  const lines = headLines(text);
  const method = text.slice(0, text.indexOf(' '));
  if (method === 'ACK') return;
  const common = [...linesOf(lines, VIA), ...linesOf(lines, FROM)];
  const to = linesOf(lines, TO)[0];
  const tagged = /;tag=/i.test(to) ? to : `${to};tag=uas${value(linesOf(lines, CALL_ID)[0]).split('@')[0]}`;
  const rest = [tagged, ...linesOf(lines, CALL_ID), ...linesOf(lines, CSEQ)];
  if (method === 'INVITE') {
    const headers = [
      ...common,
      ...rest,
      ...linesOf(lines, RR),
      `Contact: <sip:127.0.0.1:${UAS_PORT};transport=UDP>`,
      'Content-Type: application/sdp',
    ];
    h.deliver(UAS_PORT, message('SIP/2.0 200 OK', headers, SDP));
  } else if (method === 'BYE') {
    h.deliver(
      UAS_PORT,
      message('SIP/2.0 200 OK', [...common, ...rest, `Contact: <sip:127.0.0.1:${UAS_PORT};transport=UDP>`]),
    );
  }
}

let registered;
function registerCallee(auth) {
  const headers = [
    `Via: SIP/2.0/UDP 127.0.0.1:${UAS_PORT};branch=z9hG4bK-reg-${auth ? 2 : 1};rport`,
    `From: <sip:${CALLEE}@${DOMAIN}>;tag=uasreg`,
    `To: <sip:${CALLEE}@${DOMAIN}>`,
    'Call-ID: callee-reg@127.0.0.1',
    `CSeq: ${auth ? 2 : 1} REGISTER`,
    `Contact: <sip:${CALLEE}@127.0.0.1:${UAS_PORT};transport=UDP>`,
    'Max-Forwards: 70',
    'Expires: 3600',
  ];
  if (auth) headers.push(auth);
  h.deliver(UAS_PORT, message(`REGISTER sip:${DOMAIN} SIP/2.0`, headers));
}
function registerResponse(text) {
  const status = Number(text.slice(8, 11));
  if (status === 401) {
    const c = digestChallenge(text, 'WWW-Authenticate');
    registerCallee(`Authorization: ${credentials(CALLEE, c, 'REGISTER', `sip:${DOMAIN}`, 'callee')}`);
  } else registered(status);
}

/** The MD5 challenge of a 401/407 (the one SIPp answers). */
function digestChallenge(text, header) {
  const lines = headLines(text).filter((l) => l.toLowerCase().startsWith(`${header.toLowerCase()}:`));
  const line = lines.find((l) => !/algorithm=("?)SHA-256/i.test(l)) ?? lines[0];
  return { realm: /realm="([^"]*)"/.exec(line)[1], nonce: /nonce="([^"]*)"/.exec(line)[1] };
}
function credentials(user, { realm, nonce }, method, uri, cnonceSeed) {
  const cnonce = md5(String(cnonceSeed)).slice(0, 16);
  const ha1 = md5(`${user}:${realm}:secret${user}`);
  const response = md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${md5(`${method}:${uri}`)}`);
  return `Digest username="${user}",realm="${realm}",uri="${uri}",nonce="${nonce}",response="${response}",algorithm=MD5,cnonce="${cnonce}",qop=auth,nc=00000001`;
}

// --- the callers (call-uac.xml) ---
const calls = new Map();
let callNo = 0;
let started = 0;
let done = 0;
let failed = 0;
let finish;
let measuredFrom = 0;
const total = WARMUP + N;
const meter = await measurement({
  cpuProfile: option(args, 'profile'),
  heapProfile: option(args, 'heap-profile'),
  intervalUs: Number(option(args, 'profile-interval', '100')),
});
const target = `sip:${CALLEE}@${DOMAIN}`;

function invite(call, cseq, auth) {
  const headers = [
    `Via: SIP/2.0/UDP 127.0.0.1:${UAC_PORT};branch=z9hG4bK-${call.id}-${cseq};rport`,
    call.from,
    `To: <${target}>`,
    `Call-ID: ${call.callId}`,
    `CSeq: ${cseq} INVITE`,
    `Contact: <sip:${call.user}@127.0.0.1:${UAC_PORT};transport=UDP>`,
  ];
  if (auth) headers.push(auth);
  headers.push('Max-Forwards: 70', 'Content-Type: application/sdp');
  return message(`INVITE ${target} SIP/2.0`, headers, SDP);
}
function inDialog(call, method, cseq) {
  const headers = [`Via: SIP/2.0/UDP 127.0.0.1:${UAC_PORT};branch=z9hG4bK-${call.id}-${cseq}${method};rport`];
  for (const r of call.routes) headers.push(`Route: ${r}`);
  headers.push(call.from, call.to, `Call-ID: ${call.callId}`, `CSeq: ${cseq} ${method}`, 'Max-Forwards: 70');
  return message(`${method} ${call.remoteTarget} SIP/2.0`, headers);
}

function next(slot) {
  if (started >= total) {
    if (done + failed >= total) finish();
    return;
  }
  if (started === WARMUP) {
    measuredFrom = done;
    meter.start();
  }
  started++;
  const id = ++callNo;
  const user = 1000 + (id % USERS === CALLEE - 1000 ? (id + 1) % USERS : id % USERS);
  const call = {
    id,
    slot,
    user,
    callId: `${id}-${slot}@127.0.0.1`,
    from: `From: <sip:${user}@${DOMAIN}>;tag=${id}SIPpTag00${id}`,
    state: 1,
  };
  calls.set(call.callId, call);
  h.deliver(UAC_PORT, invite(call, 1));
}

function end(call, ok) {
  calls.delete(call.callId);
  if (ok) done++;
  else failed++;
  next(call.slot);
}

function uac(bytes) {
  const text = bytes.toString('latin1');
  const lines = headLines(text);
  const call = calls.get(value(linesOf(lines, CALL_ID)[0] ?? 'x:'));
  if (!call) return;
  const status = Number(text.slice(8, 11));
  const cseq = value(linesOf(lines, CSEQ)[0]);
  if (status < 200) return;
  if (call.state === 1 && status === 407) {
    // ACK the 407 (same branch, the To of the response), then INVITE again with credentials.
    const ack = [
      linesOf(lines, VIA)[0],
      call.from,
      linesOf(lines, TO)[0],
      `Call-ID: ${call.callId}`,
      'CSeq: 1 ACK',
      'Max-Forwards: 70',
    ];
    h.deliver(UAC_PORT, message(`ACK ${target} SIP/2.0`, ack));
    call.state = 2;
    const c = digestChallenge(text, 'Proxy-Authenticate');
    h.deliver(
      UAC_PORT,
      invite(call, 2, `Proxy-Authorization: ${credentials(call.user, c, 'INVITE', target, call.id)}`),
    );
  } else if (call.state === 2 && status === 200 && cseq.endsWith('INVITE')) {
    // The route set is the Record-Route in reverse (RFC 3261 §12.1.2), the remote target the Contact.
    call.routes = linesOf(lines, RR)
      .flatMap((l) =>
        value(l)
          .split(/,(?=\s*<)/)
          .map((v) => v.trim()),
      )
      .reverse();
    call.to = linesOf(lines, TO)[0];
    const contact = lines.find((l) => /^(contact|m)\s*:/i.test(l));
    call.remoteTarget = /<([^>]*)>/.exec(contact)[1];
    call.state = 3;
    h.deliver(UAC_PORT, inDialog(call, 'ACK', 2));
    setTimeout(() => {
      call.state = 4;
      h.deliver(UAC_PORT, inDialog(call, 'BYE', 3));
    }, PAUSE_MS);
  } else if (call.state === 4 && status === 200 && cseq.endsWith('BYE')) end(call, true);
  else end(call, false);
}

seam.onSend = (port, bytes) => (port === UAS_PORT ? uas(bytes) : port === UAC_PORT ? uac(bytes) : undefined);

const status = await new Promise((resolve) => {
  registered = resolve;
  registerCallee();
});
if (status !== 200) throw new Error(`the callee could not register: ${status}`);

const gc = globalThis.gc;
gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const t0 = process.hrtime.bigint();
await new Promise((resolve) => {
  finish = resolve;
  for (let i = 0; i < CONC; i++) next(i);
});
const measured = done - measuredFrom;
const figures = await meter.stop(measured);
console.log(
  `call-inproc: ${measured} calls measured after ${WARMUP} warm-up, conc ${CONC}, pause ${PAUSE_MS} ms, failed ${failed}; ` +
    `per call: ${figures}; total ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`,
);
if (gc) {
  gc();
  const kb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / total;
  console.log(`call-inproc: heap left per call (all ${total} within their transactions' 32 s): ${kb.toFixed(2)} KB`);
  const snapshot = option(args, 'heap-snapshot');
  if (snapshot) (await import('node:v8')).writeHeapSnapshot(snapshot);
}
await h.close();
