/**
 * A UDP socket served by a thread of its own. The SIP thread and the I/O thread hand datagrams to
 * each other through two shared-memory queues (datagram-ring.js), so a datagram costs the SIP
 * thread a copy, not a system call and dgram's per-datagram work: on a loopback or a NIC, sendmsg
 * runs the whole delivery path in the sender's thread, and it was the largest single item of the
 * SIP thread's REGISTER time (docs/benchmarks.md).
 *
 * The I/O thread is native where the addon is built (native/udp-io.c: recvmmsg/sendmmsg, a batch
 * of datagrams per system call, none of dgram's per-datagram objects), else a worker thread running
 * dgram (udp-io-worker.js). Same queues, same contract.
 *
 * A thread is woken only when it sleeps with nothing queued: under load, batches pass with no
 * wake-up at all.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DatagramRing } from './datagram-ring.js';

/** The native I/O thread's JavaScript face (native/udp-io.c). */
interface NativeUdpIo {
  /** Binds the socket and starts the thread; returns the bound port. Throws the bind error (with `code`). */
  open(
    host: string,
    port: number,
    ipv6: boolean,
    socketBufferSize: number,
    inbound: Uint8Array,
    outbound: Uint8Array,
    onData: () => void,
  ): number;
  /** The SIP thread queued a datagram while the I/O thread slept. */
  wake(): void;
  /** The last kernel error's text (their count is the inbound queue's socketErrors). */
  lastError(): string;
  /** Stops the thread and closes the socket; idempotent. */
  close(): void;
}
type NativeUdpIoClass = new () => NativeUdpIo;

const NATIVE_ADDON = fileURLToPath(new URL('../native/build/udp-io.node', import.meta.url));
let nativeClass: NativeUdpIoClass | null | undefined;

/** The native I/O thread's class when its addon is built and loads here, else undefined. */
export function nativeUdpIo(): NativeUdpIoClass | undefined {
  if (nativeClass === undefined) {
    nativeClass = null;
    if (process.platform === 'linux' && existsSync(NATIVE_ADDON)) {
      try {
        nativeClass = (createRequire(import.meta.url)(NATIVE_ADDON) as { UdpIo: NativeUdpIoClass }).UdpIo;
      } catch {
        nativeClass = null; // built for another Node ABI, say: the worker serves
      }
    }
  }
  return nativeClass ?? undefined;
}

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
  /** Use the native I/O thread when it is built (default true); false: the dgram worker. */
  readonly native?: boolean | undefined;
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

/** Closes the I/O thread's socket and ends the thread, whichever kind it is. */
type StopIo = () => Promise<void>;

/** The SIP thread's end of a UDP socket served by an I/O thread. */
export class UdpIoThread {
  private stopped = false;
  private closing: Promise<void> | undefined;
  /** Native only: kernel errors already reported. */
  private errorsSeen = 0;

  private constructor(
    private readonly stopIo: StopIo,
    /** The native I/O thread; undefined for the dgram worker. */
    private readonly native: NativeUdpIo | undefined,
    private readonly inbound: DatagramRing,
    private readonly outbound: DatagramRing,
    /** The bound address (port 0 resolved). */
    readonly address: string,
    readonly port: number,
    private readonly o: UdpIoThreadOptions,
  ) {
    this.pump();
  }

  /** Which I/O thread serves the socket: 'native' (native/udp-io.c) or 'worker' (dgram in a worker). */
  get kind(): 'native' | 'worker' {
    return this.native !== undefined ? 'native' : 'worker';
  }

  /** Starts the thread and binds its socket; rejects with the bind error. */
  static start(o: UdpIoThreadOptions): Promise<UdpIoThread> {
    const queueBytes = o.queueBytes ?? 4 * 1024 * 1024;
    const inbound = DatagramRing.create(queueBytes);
    const outbound = DatagramRing.create(queueBytes);
    const Native = o.native === false ? undefined : nativeUdpIo();
    if (Native !== undefined) {
      try {
        return Promise.resolve(UdpIoThread.startNative(Native, o, inbound, outbound));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return UdpIoThread.startWorker(o, inbound, outbound);
  }

  private static startNative(
    Native: NativeUdpIoClass,
    o: UdpIoThreadOptions,
    inbound: DatagramRing,
    outbound: DatagramRing,
  ): UdpIoThread {
    const native = new Native();
    const made: { thread?: UdpIoThread } = {};
    // Called on this thread when the native thread queued datagrams while this side slept.
    const onData = (): void => made.thread?.pump();
    const port = native.open(
      o.host,
      o.port,
      o.type === 'udp6',
      o.socketBufferSize,
      new Uint8Array(inbound.shared),
      new Uint8Array(outbound.shared),
      onData,
    );
    // A sleeping I/O thread is woken once the current run of promise continuations is over, not at
    // the first datagram queued: the answers to a turn's requests go out with one wake-up.
    let wakeQueued = false;
    const wakeNow = (): void => {
      wakeQueued = false;
      native.wake();
    };
    outbound.wakeConsumer = () => {
      if (wakeQueued) return;
      wakeQueued = true;
      process.nextTick(wakeNow);
    };
    const stop = (): Promise<void> => {
      native.close();
      return Promise.resolve();
    };
    made.thread = new UdpIoThread(stop, native, inbound, outbound, o.host, port, o);
    return made.thread;
  }

  private static startWorker(
    o: UdpIoThreadOptions,
    inbound: DatagramRing,
    outbound: DatagramRing,
  ): Promise<UdpIoThread> {
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
          const thread = new UdpIoThread(() => stopWorker(worker), undefined, inbound, outbound, m.address, m.port, o);
          worker.on('message', (msg: UdpIoWorkerMessage) => {
            if (msg.kind === 'socket-error') o.onSocketError(msg);
          });
          worker.on('error', (err) => thread.fail(err));
          worker.on('exit', (code) => thread.fail(new Error(`UDP I/O thread exited (code ${code})`)));
          resolve(thread);
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
    if (this.closing === undefined) {
      const wasStopped = this.stopped;
      this.stopped = true;
      this.inbound.close();
      // A failed worker is gone already; a native thread's socket is closed in any case.
      this.closing = wasStopped && this.native === undefined ? Promise.resolve() : this.stopIo();
    }
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
    if (this.native !== undefined) this.reportNativeErrors(this.native);
    if (!this.inbound.isEmpty()) {
      setImmediate(this.pump);
      return;
    }
    if (this.native !== undefined) {
      // The native thread calls pump (onData) when it queues the next datagram.
      if (!this.inbound.sleepUntilWoken()) setImmediate(this.pump);
      return;
    }
    const wait = this.inbound.waitForData();
    if (wait === undefined) setImmediate(this.pump);
    else void wait.then(this.pump);
  };

  /**
   * Kernel errors the native thread met since the last look, reported as the worker reports them
   * (with the last one's text). A read of shared memory per turn; a call only when there are new ones.
   */
  private reportNativeErrors(native: NativeUdpIo): void {
    const count = this.inbound.socketErrors;
    if (count === this.errorsSeen) return;
    const more = count - this.errorsSeen;
    this.errorsSeen = count;
    const message = native.lastError();
    this.o.onSocketError({ message: more > 1 ? `${message} (${more} datagrams)` : message });
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    this.inbound.close();
    this.o.onFailure(err);
  }
}

/** Asks a dgram worker to close its socket and waits for it (a stuck one is ended after a second). */
function stopWorker(worker: Worker): Promise<void> {
  return new Promise<void>((resolve) => {
    const end = (): void => {
      clearTimeout(timer);
      void worker.terminate().then(
        () => resolve(),
        () => resolve(),
      );
    };
    const timer = setTimeout(end, 1000);
    worker.on('message', (m: UdpIoWorkerMessage) => {
      if (m.kind === 'closed') end();
    });
    worker.postMessage({ kind: 'close' });
  });
}
