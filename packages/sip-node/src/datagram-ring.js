// @ts-check
/**
 * A single-producer, single-consumer queue of datagrams in a SharedArrayBuffer, with the
 * wake-up protocol two event loops need to hand datagrams to each other without a message
 * per datagram (the UDP I/O thread, udp-io-thread.ts, and its worker, udp-io-worker.js).
 *
 * Plain JavaScript (checked by tsc through JSDoc) so that the worker script, which Node loads
 * as it is from the sources and from dist alike, can import it.
 *
 * Layout: a control block of Int32 words, then the data area. A record is
 *   u32 record length (header + payload, padded to 4) | u32 payload length |
 *   u16 port | u8 address length | u8 reserved | address (latin1) | payload
 * written at `head` by the producer and read at `tail` by the consumer. A record never wraps:
 * when it does not fit before the end, the producer leaves a zero word (or fewer than four
 * bytes) there and writes it at offset 0. One byte always stays free, so head == tail means
 * empty. Atomics.store of head (tail) publishes what was written (read) before it (the
 * ECMAScript memory model's synchronizes-with of sequentially consistent atomics).
 *
 * Wake-up: a consumer with nothing to read sets WAITING and sleeps on BELL (Atomics.waitAsync:
 * the event loop goes on). A producer that finds WAITING set after publishing clears it, rings
 * BELL and notifies. Both check after their own store, so one of them always sees the other.
 */

import { Buffer } from 'node:buffer';

/** Control words (Int32 indexes). */
const HEAD = 0;
const TAIL = 1;
const WAITING = 2;
const BELL = 3;
const CLOSED = 4;
const DROPPED = 5;
/** Kernel errors the producer met on its socket (a native I/O thread counts them here). */
const SOCKET_ERRORS = 6;
const CONTROL_WORDS = 8;
const CONTROL_BYTES = CONTROL_WORDS * 4;
const HEADER_BYTES = 12;
/** Longest address text a record carries (an IPv6 address with a zone fits). */
export const MAX_ADDRESS_LENGTH = 255;

/** @typedef {{ shared: SharedArrayBuffer }} DatagramRingHandle */

/** One end of a datagram queue. Both threads wrap the same SharedArrayBuffer. */
export class DatagramRing {
  /**
   * A new queue able to hold about `capacity` bytes of datagrams and their headers.
   * @param {number} capacity
   * @returns {DatagramRing}
   */
  static create(capacity) {
    if (!Number.isInteger(capacity) || capacity < 1024)
      throw new RangeError('ring capacity must be an integer >= 1024');
    return new DatagramRing(new SharedArrayBuffer(CONTROL_BYTES + ((capacity + 3) & ~3)));
  }

  /** @param {SharedArrayBuffer} shared */
  constructor(shared) {
    /** The memory both ends share (posted to the worker as it is). */
    this.shared = shared;
    /** @private */
    this.control = new Int32Array(shared, 0, CONTROL_WORDS);
    /** @private */
    this.data = Buffer.from(shared, CONTROL_BYTES);
    /** @private */
    this.capacity = this.data.length;
    /** The last address text read, kept so that a peer's every datagram does not make a new string. @private */
    this.lastAddress = '';
    /**
     * Producer: how to wake a consumer that sleeps otherwise than in waitForData (a native thread
     * polling a file descriptor); undefined for Atomics.notify.
     * @type {(() => void) | undefined}
     */
    this.wakeConsumer = undefined;
  }

  /**
   * Producer: queues one datagram. Returns false, and counts a drop, when the queue has no
   * room for it (the consumer is behind): the datagram is lost, as a full socket buffer loses one.
   * @param {Uint8Array} payload
   * @param {string} address an IP address (latin1 text)
   * @param {number} port
   * @returns {boolean}
   */
  write(payload, address, port) {
    const addressLength = address.length;
    if (addressLength > MAX_ADDRESS_LENGTH) throw new RangeError('address too long for a ring record');
    const payloadLength = payload.length;
    const recordLength = (HEADER_BYTES + addressLength + payloadLength + 3) & ~3;
    const cap = this.capacity;
    let head = this.control[HEAD] ?? 0; // this end's own word: no other thread writes it
    const tail = Atomics.load(this.control, TAIL);
    if (head >= tail) {
      // Free: [head, cap) and [0, tail - 1).
      if (cap - head < recordLength + (tail === 0 ? 1 : 0)) {
        if (recordLength >= tail) return this.drop();
        if (cap - head >= 4) this.data.writeUInt32LE(0, head); // wrap marker
        head = 0;
      }
    } else if (tail - head <= recordLength) {
      return this.drop();
    }
    const d = this.data;
    d.writeUInt32LE(recordLength, head);
    d.writeUInt32LE(payloadLength, head + 4);
    d.writeUInt16LE(port, head + 8);
    d[head + 10] = addressLength;
    // An address is ASCII and a few dozen bytes at most: stored here rather than through a call into C++.
    const at = head + HEADER_BYTES;
    for (let i = 0; i < addressLength; i++) d[at + i] = address.charCodeAt(i);
    d.set(payload, head + HEADER_BYTES + addressLength);
    let next = head + recordLength;
    if (next === cap) next = 0;
    Atomics.store(this.control, HEAD, next);
    if (Atomics.load(this.control, WAITING) === 1 && Atomics.compareExchange(this.control, WAITING, 1, 0) === 1) {
      Atomics.add(this.control, BELL, 1);
      if (this.wakeConsumer !== undefined) this.wakeConsumer();
      else Atomics.notify(this.control, BELL);
    }
    return true;
  }

  /**
   * Consumer: takes the oldest datagram and hands it to `take` (the payload is a copy the
   * callee may keep). Returns false when the queue is empty.
   * @param {(payload: Buffer, address: string, port: number) => void} take
   * @returns {boolean}
   */
  read(take) {
    let tail = this.control[TAIL] ?? 0;
    const head = Atomics.load(this.control, HEAD);
    if (tail === head) return false;
    const d = this.data;
    if (this.capacity - tail < 4 || d.readUInt32LE(tail) === 0) {
      tail = 0; // the producer wrapped here
      if (tail === head) {
        Atomics.store(this.control, TAIL, 0);
        return false;
      }
    }
    const recordLength = d.readUInt32LE(tail);
    const payloadLength = d.readUInt32LE(tail + 4);
    const port = d.readUInt16LE(tail + 8);
    const addressLength = d[tail + 10] ?? 0;
    const address = this.addressAt(tail + HEADER_BYTES, addressLength);
    const start = tail + HEADER_BYTES + addressLength;
    const payload = Buffer.allocUnsafe(payloadLength);
    d.copy(payload, 0, start, start + payloadLength);
    let next = tail + recordLength;
    if (next === this.capacity) next = 0;
    Atomics.store(this.control, TAIL, next);
    take(payload, address, port);
    return true;
  }

  /** Consumer: whether nothing is queued. @returns {boolean} */
  isEmpty() {
    return Atomics.load(this.control, HEAD) === (this.control[TAIL] ?? 0);
  }

  /**
   * Consumer: waits until the producer has queued something (or the ring is closed). Resolves
   * at once when something is queued already. The event loop goes on meanwhile.
   * @returns {Promise<unknown> | undefined} undefined when there is no need to wait
   */
  waitForData() {
    const c = this.control;
    const seen = Atomics.load(c, BELL);
    Atomics.store(c, WAITING, 1);
    if (!this.isEmpty() || Atomics.load(c, CLOSED) === 1) {
      Atomics.store(c, WAITING, 0);
      return undefined;
    }
    const wait = Atomics.waitAsync(c, BELL, seen);
    if (!wait.async) {
      Atomics.store(c, WAITING, 0);
      return undefined;
    }
    return wait.value;
  }

  /**
   * Consumer: like waitForData, for a producer that wakes this side by other means than
   * Atomics.notify (a native thread: a call on this thread's event loop). True when the ring is
   * empty and the producer will wake this side when it queues something; false when there is no
   * need to wait (something is queued, or the ring is closed).
   * @returns {boolean}
   */
  sleepUntilWoken() {
    const c = this.control;
    Atomics.store(c, WAITING, 1);
    if (!this.isEmpty() || Atomics.load(c, CLOSED) === 1) {
      Atomics.store(c, WAITING, 0);
      return false;
    }
    return true;
  }

  /** Either end: marks the ring closed and wakes a waiting consumer. */
  close() {
    Atomics.store(this.control, CLOSED, 1);
    Atomics.add(this.control, BELL, 1);
    Atomics.notify(this.control, BELL);
  }

  /** @returns {boolean} */
  get closed() {
    return Atomics.load(this.control, CLOSED) === 1;
  }

  /** Datagrams the producer could not queue since the ring was made. @returns {number} */
  get dropped() {
    return Atomics.load(this.control, DROPPED);
  }

  /** Kernel errors a native producer counted on its socket since the ring was made. @returns {number} */
  get socketErrors() {
    return Atomics.load(this.control, SOCKET_ERRORS);
  }

  /** @private @returns {false} */
  drop() {
    Atomics.add(this.control, DROPPED, 1);
    return false;
  }

  /**
   * @private
   * @param {number} at
   * @param {number} length
   * @returns {string}
   */
  addressAt(at, length) {
    // Compared byte by byte here: an address is a few dozen bytes at most, shorter than the call a
    // Buffer comparison makes into C++.
    const last = this.lastAddress;
    const d = this.data;
    if (last.length === length) {
      let i = 0;
      while (i < length && d[at + i] === last.charCodeAt(i)) i++;
      if (i === length) return last;
    }
    this.lastAddress = d.toString('latin1', at, at + length);
    return this.lastAddress;
  }
}
