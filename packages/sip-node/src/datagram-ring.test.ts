import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { DatagramRing, MAX_ADDRESS_LENGTH } from './datagram-ring.js';

type Taken = { text: string; address: string; port: number };

function takeAll(ring: DatagramRing): Taken[] {
  const out: Taken[] = [];
  while (ring.read((payload, address, port) => out.push({ text: payload.toString('latin1'), address, port })));
  return out;
}

describe('DatagramRing', () => {
  it('hands datagrams over in order with their address and port', () => {
    const ring = DatagramRing.create(4096);
    expect(ring.write(Buffer.from('REGISTER one'), '127.0.0.1', 5060)).toBe(true);
    expect(ring.write(Buffer.from('REGISTER two'), '2001:db8::1', 65535)).toBe(true);
    expect(ring.write(Buffer.alloc(0), '10.0.0.1', 1)).toBe(true);
    expect(ring.isEmpty()).toBe(false);
    expect(takeAll(ring)).toEqual([
      { text: 'REGISTER one', address: '127.0.0.1', port: 5060 },
      { text: 'REGISTER two', address: '2001:db8::1', port: 65535 },
      { text: '', address: '10.0.0.1', port: 1 },
    ]);
    expect(ring.isEmpty()).toBe(true);
    expect(ring.read(() => expect.fail('nothing is queued'))).toBe(false);
  });

  it('gives the reader a copy: the bytes stay as read after the slot is written again', () => {
    const ring = DatagramRing.create(1024);
    let kept: Buffer | undefined;
    for (let i = 0; i < 200; i++) {
      ring.write(Buffer.from(`message ${i} `.padEnd(40, 'x')), '127.0.0.1', 5060);
      ring.read((payload) => {
        kept ??= payload;
      });
    }
    expect(kept?.toString()).toBe('message 0 '.padEnd(40, 'x'));
  });

  it('wraps around the end of its memory without losing or mixing a byte', () => {
    // Three records of at most 12 + 11 + 300 bytes between reads, plus what a wrap leaves unused.
    const ring = DatagramRing.create(2048);
    const sent: Taken[] = [];
    const got: Taken[] = [];
    // Sizes that do not divide the capacity, so records end at every offset; a few queued at a time.
    for (let i = 0; i < 3000; i++) {
      const text = String.fromCharCode(65 + (i % 26)).repeat(1 + ((i * 37) % 300));
      const d = { text, address: `192.0.2.${i % 256}`, port: 1024 + i };
      expect(ring.write(Buffer.from(text, 'latin1'), d.address, d.port)).toBe(true);
      sent.push(d);
      if (i % 3 === 2) got.push(...takeAll(ring));
    }
    got.push(...takeAll(ring));
    expect(got).toEqual(sent);
    expect(ring.dropped).toBe(0);
  });

  it('refuses and counts a datagram it has no room for, and takes one again once read', () => {
    const ring = DatagramRing.create(1024);
    const big = Buffer.alloc(300, 0x41);
    let accepted = 0;
    while (ring.write(big, '127.0.0.1', 5060)) accepted++;
    expect(accepted).toBe(3); // 3 x (300 + 12 + 9, padded) fill 1024 bytes with one free
    expect(ring.dropped).toBe(1);
    expect(ring.write(Buffer.alloc(2000), '127.0.0.1', 5060)).toBe(false); // larger than the whole ring
    expect(ring.dropped).toBe(2);
    expect(takeAll(ring)).toHaveLength(3);
    expect(ring.write(big, '127.0.0.1', 5060)).toBe(true);
  });

  it('rejects an address longer than a record can carry', () => {
    const ring = DatagramRing.create(4096);
    expect(() => ring.write(Buffer.from('x'), 'a'.repeat(MAX_ADDRESS_LENGTH + 1), 1)).toThrow(RangeError);
    expect(ring.isEmpty()).toBe(true);
  });

  it('refuses a capacity too small to be useful', () => {
    expect(() => DatagramRing.create(100)).toThrow(RangeError);
  });

  it('a waiting reader is woken when another thread writes, and sees every datagram in order', async () => {
    const ring = DatagramRing.create(8192);
    const total = 20_000;
    const ringUrl = new URL('./datagram-ring.js', import.meta.url).href;
    // The producer: another thread, writing as fast as it can, retrying when the ring is full.
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       import(workerData.ringUrl).then(({ DatagramRing }) => {
         const ring = new DatagramRing(workerData.shared);
         let i = 0;
         while (i < workerData.total) {
           if (ring.write(Buffer.from('datagram ' + i), '127.0.0.1', 1000 + (i % 60000))) i++;
         }
       });`,
      { eval: true, workerData: { shared: ring.shared, total, ringUrl } },
    );
    let next = 0;
    let outOfOrder = 0;
    let wakeUps = 0;
    while (next < total) {
      while (
        ring.read((payload, address, port) => {
          if (payload.toString() !== `datagram ${next}` || address !== '127.0.0.1' || port !== 1000 + (next % 60000))
            outOfOrder++;
          next++;
        })
      );
      if (next === total) break;
      const wait = ring.waitForData();
      if (wait !== undefined) {
        wakeUps++;
        await wait;
      }
    }
    await worker.terminate();
    expect(next).toBe(total);
    expect(outOfOrder).toBe(0);
    expect(wakeUps).toBeGreaterThan(0);
  });

  it('close() wakes a waiting reader', async () => {
    const ring = DatagramRing.create(1024);
    const wait = ring.waitForData();
    expect(wait).toBeInstanceOf(Promise);
    ring.close();
    await wait;
    expect(ring.closed).toBe(true);
    expect(ring.waitForData()).toBeUndefined();
  });
});
