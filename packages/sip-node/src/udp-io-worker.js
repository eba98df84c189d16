// @ts-check
/**
 * The UDP I/O thread's worker (started by udp-io-thread.ts): owns the SIP UDP socket, queues
 * every datagram it receives for the SIP thread and sends every datagram the SIP thread queues.
 * The system calls, dgram's per-datagram work and the kernel's loopback or NIC path run here, on
 * a core of their own; the SIP thread keeps parsing, transactions and the application.
 *
 * Plain JavaScript: Node starts a worker from a file as it is, in the sources (tests) and in dist.
 */
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { setImmediate } from 'node:timers';
import { parentPort, workerData } from 'node:worker_threads';
import { DatagramRing } from './datagram-ring.js';

/**
 * @typedef {object} UdpIoWorkerData
 * @property {'udp4' | 'udp6'} type
 * @property {string} host
 * @property {number} port
 * @property {SharedArrayBuffer} inbound   datagrams received, for the SIP thread
 * @property {SharedArrayBuffer} outbound  datagrams to send, from the SIP thread
 * @property {number} socketBufferSize
 */

/** @typedef {import('./udp-io-thread.js').UdpIoWorkerMessage} UdpIoWorkerMessage */

const port = parentPort;
if (port === null) throw new Error('udp-io-worker.js runs as a worker thread');
/** @type {UdpIoWorkerData} */
const data = workerData; // eslint-disable-line @typescript-eslint/no-unsafe-assignment -- workerData is any: its shape is set by udp-io-thread.ts
const inbound = new DatagramRing(data.inbound);
const outbound = new DatagramRing(data.outbound);

/** @param {UdpIoWorkerMessage} m */
const post = (m) => port.postMessage(m);

/**
 * The SIP thread queues addresses only (it resolves names before), so the socket's lookup answers at
 * once: no deferred dns.lookup round per datagram.
 * @param {string} address
 * @param {number} _family
 * @param {(err: NodeJS.ErrnoException | null, address: string, family: number) => void} callback
 */
function addressLookup(address, _family, callback) {
  callback(null, address, isIP(address));
}

const socket = createSocket({ type: data.type, lookup: /** @type {never} */ (addressLookup) });
let closing = false;

// Size limits and keep-alives are the SIP thread's business (UdpTransport.receive), as without this thread.
socket.on('message', (msg, rinfo) => {
  // False when the SIP thread is behind and the queue full: the datagram is lost (and counted), as it
  // would be in a full socket buffer.
  inbound.write(msg, rinfo.address, rinfo.port);
});

let bound = false;
socket.on('error', (err) => {
  const e = /** @type {NodeJS.ErrnoException & { address?: string; port?: number }} */ (err);
  if (!bound) post({ kind: 'bind-failed', message: e.message, code: e.code });
  else post({ kind: 'socket-error', message: e.message, code: e.code, address: e.address, port: e.port });
});

/** Datagrams sent in one turn before the socket's receive events get theirs. */
const BATCH = 64;

/**
 * A send the kernel refuses (a broadcast address, an unreachable network) is reported like a socket
 * error: dgram only tells a send's own callback, and says nothing without one.
 * @param {Error | null} err
 */
const afterSend = (err) => {
  if (err === null || closing) return;
  const e = /** @type {NodeJS.ErrnoException & { address?: string; port?: number }} */ (err);
  post({ kind: 'socket-error', message: e.message, code: e.code, address: e.address, port: e.port });
};

/** @param {Buffer} payload @param {string} address @param {number} to */
const send = (payload, address, to) => {
  if (!closing) socket.send(payload, to, address, afterSend);
};

/**
 * Sends what the SIP thread queued, a batch per turn (receiving must not starve behind a busy
 * sender), then sleeps until it queues more.
 */
function pumpOutbound() {
  let n = 0;
  while (n < BATCH && outbound.read(send)) n++;
  if (outbound.closed) return;
  if (n < BATCH) {
    const wait = outbound.waitForData();
    if (wait !== undefined) {
      void wait.then(pumpOutbound);
      return;
    }
  }
  setImmediate(pumpOutbound);
}

port.on('message', (/** @type {{ kind: 'close' }} */ m) => {
  if (m.kind !== 'close' || closing) return;
  closing = true;
  inbound.close();
  outbound.close();
  socket.close(() => post({ kind: 'closed' }));
});

socket.bind({ address: data.host, port: data.port, exclusive: true }, () => {
  bound = true;
  const bufferSize = data.socketBufferSize;
  try {
    socket.setRecvBufferSize(bufferSize);
    socket.setSendBufferSize(bufferSize);
  } catch {
    // Capped or refused by the OS: the defaults stay.
  }
  const a = socket.address();
  post({ kind: 'listening', address: a.address, port: a.port });
  pumpOutbound();
});
