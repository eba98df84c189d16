/**
 * The private rtpengine that `npm start` runs when no HANDSET_RTPENGINE is given: userspace
 * forwarding (`--table=-1`), in the foreground as our child, its ng port on loopback. It is
 * restarted when it dies (after a growing pause) and stopped when Handset stops.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';
import { TypedEmitter } from '../events/typed-emitter.js';
import { NgClient } from './ng-client.js';

/** Options of {@link RtpengineSupervisor}. */
export interface RtpengineSupervisorOptions {
  /** The executable (absolute path). */
  binary: string;
  /** The address RTP sockets bind to, and the one written into SDP when different. */
  interfaceAddress: string;
  advertisedAddress: string;
  portMin: number;
  portMax: number;
  /** Where call recordings go (rtpengine `--recording-dir`); none: recording off. */
  recordingDir?: string | undefined;
  logger?: Logger | undefined;
  /** Pause before the first restart (doubles up to 10 s while it keeps dying). */
  restartDelayMs?: number;
}

/** Supervisor events. */
export type RtpengineSupervisorEvents = {
  /** The process answers ng commands. */
  ready: [];
  /** The process exited (not by {@link RtpengineSupervisor.close}). */
  exited: [code: number | null, signal: NodeJS.Signals | null];
};

/** Finds an executable by name on PATH (and /usr/sbin, /usr/bin), or checks an absolute path. */
export async function findExecutable(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  const candidates = name.includes('/')
    ? [name]
    : [...path.split(delimiter).filter((d) => d !== ''), '/usr/bin', '/usr/sbin'].map((d) => join(d, name));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** A free UDP port on 127.0.0.1 (for the ng socket). */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => resolve());
  });
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Runs and watches one rtpengine process. */
export class RtpengineSupervisor extends TypedEmitter<RtpengineSupervisorEvents> {
  private child: ChildProcess | undefined;
  private ngPort = 0;
  private closed = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private client: NgClient | undefined;
  /** The last lines rtpengine wrote (to explain an exit). */
  private readonly tail: string[] = [];

  constructor(private readonly o: RtpengineSupervisorOptions) {
    super();
    this.onListenerError = (err, event) => o.logger?.error({ err, event }, 'rtpengine supervisor listener failed');
  }

  /** The ng client of the process (valid across restarts: the ng port stays the same). */
  get ng(): NgClient {
    if (!this.client) throw new Error('start() first');
    return this.client;
  }

  /** The process id while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts rtpengine and resolves once it answers `ping` (rejects if it does not within 10 s). */
  async start(): Promise<void> {
    this.ngPort = await freeUdpPort();
    this.client = new NgClient({ host: '127.0.0.1', port: this.ngPort, timeoutMs: 1000, retries: 2 });
    this.spawn();
    await this.waitReady(10_000);
  }

  /** Stops rtpengine (SIGTERM, then SIGKILL after 3 s). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    }
    this.client?.close();
  }

  private args(): string[] {
    const o = this.o;
    const iface =
      o.interfaceAddress === o.advertisedAddress ? o.interfaceAddress : `${o.interfaceAddress}!${o.advertisedAddress}`;
    return [
      '--config-file=none',
      '--table=-1',
      '--foreground',
      '--log-stderr',
      '--no-log-timestamps',
      '--log-level=5',
      `--interface=${iface}`,
      `--listen-ng=127.0.0.1:${this.ngPort}`,
      `--port-min=${o.portMin}`,
      `--port-max=${o.portMax}`,
      // A deleted call is gone at once (the default keeps it 30 s), so `list` counts live calls only.
      '--delete-delay=0',
      '--timeout=60',
      '--silent-timeout=3600',
      '--num-threads=2',
      ...(o.recordingDir ? [`--recording-dir=${o.recordingDir}`, '--recording-method=pcap'] : []),
    ];
  }

  private spawn(): void {
    const child = spawn(this.o.binary, this.args(), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (line.trim() === '') continue;
        this.tail.push(line);
        if (this.tail.length > 20) this.tail.shift();
        if (/CRIT|ERR|WARNING/.test(line)) this.o.logger?.warn({ rtpengine: line.trim() }, 'rtpengine says');
      }
    });
    child.on('error', (err) => this.o.logger?.error({ err }, 'rtpengine could not be started'));
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      if (this.closed) return;
      this.failures++;
      const delay = Math.min(10_000, (this.o.restartDelayMs ?? 500) * 2 ** Math.min(this.failures - 1, 5));
      this.o.logger?.error(
        { code, signal, restartInMs: delay, lastLines: this.tail.slice(-5) },
        'rtpengine exited; restarting it',
      );
      this.emit('exited', code, signal);
      this.restartTimer = setTimeout(() => {
        if (this.closed) return;
        this.spawn();
        this.waitReady(10_000).catch((err: unknown) =>
          this.o.logger?.error({ err }, 'restarted rtpengine does not answer'),
        );
      }, delay);
    });
    this.o.logger?.info({ pid: child.pid, args: this.args() }, 'started the private rtpengine');
  }

  private async waitReady(withinMs: number): Promise<void> {
    const deadline = Date.now() + withinMs;
    const child = this.child;
    for (;;) {
      if (this.closed) return;
      if (this.child !== child || child === undefined)
        throw new Error(`rtpengine exited while starting: ${this.tail.slice(-3).join(' | ')}`);
      try {
        await this.ng.request('ping');
        this.failures = 0;
        this.emit('ready');
        return;
      } catch {
        if (Date.now() > deadline) throw new Error('rtpengine did not answer ping within 10 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}
