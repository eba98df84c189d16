/**
 * A UDP socket served by a thread of its own (udp-io-worker.js). The SIP thread and the I/O
 * thread hand datagrams to each other through two shared-memory queues (datagram-ring.js), so
 * a datagram costs the SIP thread a copy, not a system call and dgram's per-datagram work: on
 * a loopback or a NIC, sendmsg runs the whole delivery path in the sender's thread, and it was
 * the largest single item of the SIP thread's REGISTER time (docs/benchmarks.md).
 *
 * A thread is woken only when it sleeps with nothing queued: under load, batches pass with no
 * wake-up at all.
 */
import { Worker } from 'node:worker_threads';
import { DatagramRing } from './datagram-ring.js';

/** What the worker tells the SIP thread. */
export type UdpIoWorkerMessage =
  | { kind: 'listening'; address: string; port: number }
  | { kind: 'bind-failed'; message: string; code?: string | undefined }
  | ({ kind: 'socket-error' } & UdpIoSocketError)
  | { kind: 'closed' };

/** A socket error the I/O thread reported (a send that failed in the kernel, mostly). */
export interface UdpIoSocketError {
  readonly message: string;
  readonly code?: string | undefined;
  readonly address?: string | undefined;
  readonly port?: number | undefined;
}

/** Options of {@link UdpIoThread.start}. */
export interface UdpIoThreadOptions {
  readonly type: 'udp4' | 'udp6';
  readonly host: string;
  readonly port: number;
  readonly socketBufferSize: number;
  /** Bytes of each queue (datagrams and a 12-byte header each). Default 4 MiB, as the socket buffers. */
  readonly queueBytes?: number | undefined;
  /** Called on the SIP thread for every datagram received. */
  readonly onDatagram: (payload: Buffer, address: string, port: number) => void;
  /** A socket error after binding; the thread goes on. */
  readonly onSocketError: (err: UdpIoSocketError) => void;
  /** The I/O thread died (a bug): no datagram passes any more. */
  readonly onFailure: (err: Error) => void;
}

/**
 * Datagrams handed to the SIP side in one turn of its event loop. A few, as libuv reads several
 * from a socket per poll: each is a turn's worth of work less (its own check phase and epoll call).
 * Not many: a turn's requests are in flight together until its promise continuations have run, and
 * from 8 a turn V8 began promoting them to the old space wholesale (`--trace-gc-nvp` over a REGISTER
 * run: 2.1 MB promoted per scavenge and 10 ms pauses at 8 and 16, 0.25 MB and 2.5 ms at 1, 2 and 4;
 * the SIP thread's CPU per REGISTER scenario 67-78 us at 4, 76-85 at 2, 87-103 at 1).
 */
const PER_TURN = 4;

/** The SIP thread's end of a UDP socket served by an I/O thread. */
export class UdpIoThread {
  private stopped = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly inbound: DatagramRing,
    private readonly outbound: DatagramRing,
    /** The bound address (port 0 resolved). */
    readonly address: string,
    readonly port: number,
    private readonly o: UdpIoThreadOptions,
  ) {
    worker.on('message', (m: UdpIoWorkerMessage) => {
      if (m.kind === 'socket-error') o.onSocketError(m);
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (!this.stopped) this.fail(new Error(`UDP I/O thread exited (code ${code})`));
    });
    this.pump();
  }

  /** Starts the thread and binds its socket; rejects with the bind error. */
  static start(o: UdpIoThreadOptions): Promise<UdpIoThread> {
    const queueBytes = o.queueBytes ?? 4 * 1024 * 1024;
    const inbound = DatagramRing.create(queueBytes);
    const outbound = DatagramRing.create(queueBytes);
    const worker = new Worker(new URL('./udp-io-worker.js', import.meta.url), {
      workerData: {
        type: o.type,
        host: o.host,
        port: o.port,
        inbound: inbound.shared,
        outbound: outbound.shared,
        socketBufferSize: o.socketBufferSize,
      },
    });
    return new Promise((resolve, reject) => {
      const onMessage = (m: UdpIoWorkerMessage): void => {
        if (m.kind === 'listening') {
          done();
          resolve(new UdpIoThread(worker, inbound, outbound, m.address, m.port, o));
        } else if (m.kind === 'bind-failed') {
          done();
          void worker.terminate();
          reject(Object.assign(new Error(m.message), { code: m.code }));
        }
      };
      const onError = (err: Error): void => {
        done();
        reject(err);
      };
      const done = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
    });
  }

  /**
   * Queues one datagram for the I/O thread. False when it cannot be sent: the queue is full
   * (the I/O thread is behind; the datagram is lost, as UDP loses one) or the thread is gone.
   */
  send(payload: Uint8Array, address: string, port: number): boolean {
    if (this.stopped) return false;
    return this.outbound.write(payload, address, port);
  }

  /** Datagrams lost because a queue was full: received (SIP thread behind) and to send (I/O thread behind). */
  get dropped(): { received: number; sent: number } {
    return { received: this.inbound.dropped, sent: this.outbound.dropped };
  }

  /** Closes the socket and ends the thread; idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (this.stopped) {
        resolve();
        return;
      }
      this.stopped = true;
      const end = (): void => {
        clearTimeout(timer);
        void this.worker.terminate().then(
          () => resolve(),
          () => resolve(),
        );
      };
      // The worker closes its socket and says so; a stuck one is ended after a second anyway.
      const timer = setTimeout(end, 1000);
      this.worker.on('message', (m: UdpIoWorkerMessage) => {
        if (m.kind === 'closed') end();
      });
      this.worker.postMessage({ kind: 'close' });
      this.inbound.close();
    });
    return this.closing;
  }

  /**
   * Hands queued datagrams to the SIP side, PER_TURN at most per turn of the event loop, then sleeps
   * once the queue is empty. The next batch waits for the next turn: the requests of this one run
   * their promise continuations, and are answered, before more are parsed.
   */
  private readonly pump = (): void => {
    if (this.stopped) return;
    for (let i = 0; i < PER_TURN && this.inbound.read(this.o.onDatagram); i++);
    if (this.stopped) return;
    if (!this.inbound.isEmpty()) {
      setImmediate(this.pump);
      return;
    }
    const wait = this.inbound.waitForData();
    if (wait === undefined) setImmediate(this.pump);
    else void wait.then(this.pump);
  };

  private fail(err: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.inbound.close();
    this.o.onFailure(err);
  }
}
