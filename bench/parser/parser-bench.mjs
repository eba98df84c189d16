#!/usr/bin/env node
// Parser/serializer micro-benchmark over the BUILT packages/sip (run `npm run build` first).
//   node bench/parser/parser-bench.mjs [--ms 1000] [--rounds 5] [--sip path/to/packages/sip/dist/index.js]
// For each case: ops/s, the median of `rounds` timed rounds of `ms` each, after a warm-up round.
// Cases: parse a typical REGISTER (with Authorization) and INVITE (with SDP); parse and read the
// headers a registrar or proxy reads; parse + serialize; build a response + serialize.
// Absolute numbers depend on the machine: compare builds on the same machine, one after the other.
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
if (args.includes('--help')) {
  console.log('usage: node bench/parser/parser-bench.mjs [--ms 1000] [--rounds 5] [--sip <dist/index.js>]');
  process.exit(0);
}
const MS = Number(opt('ms', '1000'));
const ROUNDS = Number(opt('rounds', '5'));
const sipPath = opt('sip', fileURLToPath(new URL('../../packages/sip/dist/index.js', import.meta.url)));
const sip = await import(pathToFileURL(sipPath).href);

const crlf = (lines) => Buffer.from(lines.join('\r\n'));

// As SIPp sends them in bench/sip (shared register.xml, call-uac.xml), with a typical Authorization.
const REGISTER = crlf([
  'REGISTER sip:127.0.0.1 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:40112;branch=z9hG4bK-31337-1-2;rport',
  'From: <sip:1042@127.0.0.1>;tag=31337SIPpTag001',
  'To: <sip:1042@127.0.0.1>',
  'Call-ID: 1-31337@127.0.0.1',
  'CSeq: 2 REGISTER',
  'Contact: <sip:1042@127.0.0.1:40112;transport=UDP>',
  'Authorization: Digest username="1042",realm="127.0.0.1",cnonce="6b8b4567",nc=00000001,qop=auth,' +
    'uri="sip:127.0.0.1",nonce="AZtIUsVDm9ZvDMZAAKxhS3t3eb8AL2dwcmX5nD8o8G-WtxmYa0B7wYqSD6aJgZk1",' +
    'response="0b0a3a8b0e0e3f6f9b6a8c0d1e2f3a4b",algorithm=MD5',
  'Max-Forwards: 70',
  'Expires: 3600',
  'User-Agent: sipp-bench',
  'Content-Length: 0',
  '',
  '',
]);
const SDP =
  'v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n' +
  'm=audio 6000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n';
const INVITE = crlf([
  'INVITE sip:9999@127.0.0.1 SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:40113;branch=z9hG4bK-31337-7-1;rport',
  'From: <sip:1042@127.0.0.1>;tag=31337SIPpTag007',
  'To: <sip:9999@127.0.0.1>',
  'Call-ID: 7-31337@127.0.0.1',
  'CSeq: 1 INVITE',
  'Contact: <sip:1042@127.0.0.1:40113;transport=UDP>',
  'Max-Forwards: 70',
  'Content-Type: application/sdp',
  `Content-Length: ${Buffer.byteLength(SDP)}`,
  '',
  SDP,
]);

let sink = 0; // keeps results alive so the work is not optimized away
const readAll = (m) => {
  sink += m.via.length + m.cseq.seq + m.callId.length + m.from.params.size + m.to.uri.length;
  const c = m.contacts;
  sink += c === '*' ? 1 : c.length;
  sink += m.maxForwards ?? 0;
};
const cases = {
  'parse REGISTER': () => sip.parseMessage(REGISTER),
  'parse INVITE+SDP': () => sip.parseMessage(INVITE),
  'parse+read REGISTER': () => readAll(sip.parseMessage(REGISTER)),
  'parse+read INVITE+SDP': () => readAll(sip.parseMessage(INVITE)),
  'parse+serialize REGISTER': () => sip.serializeMessage(sip.parseMessage(REGISTER)),
  'parse+serialize INVITE+SDP': () => sip.serializeMessage(sip.parseMessage(INVITE)),
  'parse+createResponse 200+serialize REGISTER': () => {
    const req = sip.parseMessage(REGISTER);
    const res = sip.createResponse(req, 200, {
      toTag: 'reg',
      headers: [['Contact', '<sip:1042@127.0.0.1:40112;transport=UDP>;expires=3600']],
    });
    return sip.serializeMessage(res);
  },
};

function round(fn, ms) {
  let ops = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    for (let i = 0; i < 200; i++) sink += fn() === undefined ? 0 : 1;
    ops += 200;
  }
  return ops / (ms / 1000);
}

console.log(`node ${process.version}, ${sipPath}, ${ROUNDS} rounds of ${MS} ms (median ops/s)`);
for (const [name, fn] of Object.entries(cases)) {
  round(fn, Math.min(MS, 300)); // warm-up
  const rates = [];
  for (let r = 0; r < ROUNDS; r++) rates.push(round(fn, MS));
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  console.log(`${name.padEnd(46)} ${Math.round(median).toString().padStart(9)} ops/s`);
}
if (sink === 42) console.log('');
