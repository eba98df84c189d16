#!/usr/bin/env node
// What a registrar holds for each answered REGISTER during Timer J (RFC 3261 §17.2.2: 32 s over UDP),
// measured over the BUILT packages/sip (run `npm run build` first):
//   node --expose-gc bench/sip/transaction-memory.mjs [--n 60000] [--sip path/to/packages/sip/dist/index.js]
// Feeds N distinct REGISTERs through a TransactionLayer (a few per event-loop turn, as datagrams
// arrive), answers each with a 401 as the registrar does, and prints the heap still held per
// completed transaction after a full GC (and the buffer bytes outside the heap), and the CPU per request
// (parse, transaction, response).
// Compare builds on the same machine, one after the other (`--sip` points at another build).
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : dflt;
};
if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}
const N = Number(opt('n', '60000'));
const sipPath = opt('sip', fileURLToPath(new URL('../../packages/sip/dist/index.js', import.meta.url)));
const { TransactionLayer, parseMessage, createResponse, serializeMessage } = await import(pathToFileURL(sipPath).href);

const flow = {
  id: 'udp:127.0.0.1:5060>127.0.0.1:6000',
  protocol: 'udp',
  reliable: false,
  local: { address: '127.0.0.1', port: 5060 },
  remote: { address: '127.0.0.1', port: 6000 },
};
const challenge = `Digest realm="127.0.0.1", nonce="${'n'.repeat(64)}", algorithm=MD5, qop="auth"`;
const layer = new TransactionLayer({
  // As the endpoint does: serialize what is not bytes yet (builds from before 2026-12-02 hand every
  // response over as a message; later ones serialize a final response once and resend those bytes).
  send: async (m) => {
    if (!Buffer.isBuffer(m)) serializeMessage(m);
    return flow;
  },
  tu: {
    onRequest: (t) =>
      t.respond(createResponse(t.request, 401, { toTag: 'reg', headers: [['WWW-Authenticate', challenge]] })),
    onAck: () => {},
    onStrayResponse: () => {},
  },
});
// As SIPp's register.xml sends them: one user of 10,000 per request, a new branch and Call-ID each.
const datagram = (i) => {
  const user = 1000 + (i % 10000);
  return Buffer.from(
    [
      'REGISTER sip:127.0.0.1 SIP/2.0',
      `Via: SIP/2.0/UDP 127.0.0.1:6000;branch=z9hG4bK-${i}-1-0;rport`,
      `From: <sip:${user}@127.0.0.1>;tag=${i}SIPpTag001`,
      `To: <sip:${user}@127.0.0.1>`,
      `Call-ID: ${i}-31337@127.0.0.1`,
      'CSeq: 1 REGISTER',
      `Contact: <sip:${user}@127.0.0.1:6000;transport=UDP>`,
      'Max-Forwards: 70',
      'Expires: 3600',
      'User-Agent: SIPp',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
};

globalThis.gc();
const before = process.memoryUsage();
const cpu0 = process.cpuUsage();
for (let i = 0; i < N; i++) {
  layer.receiveRequest(parseMessage(datagram(i)), flow);
  if (i % 4 === 3) await new Promise((resolve) => setImmediate(resolve));
}
const cpu = process.cpuUsage(cpu0);
await new Promise((resolve) => setTimeout(resolve, 100));
globalThis.gc();
const after = process.memoryUsage();
const held = after.heapUsed - before.heapUsed;
// Buffers' bytes live outside the heap (the collector does not trace them), but they are memory all the same.
const outside = after.arrayBuffers - before.arrayBuffers;
console.log(
  `completed transactions: ${layer.serverCount}; heap held per transaction: ${Math.round(held / N)} bytes` +
    ` (+ ${Math.round(outside / N)} bytes of buffers outside the heap); ` +
    `CPU per request: ${((cpu.user + cpu.system) / N).toFixed(1)} us`,
);
layer.close();
