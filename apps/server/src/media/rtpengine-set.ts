/**
 * The rtpengines Handset drives: new calls are spread over the live ones (round robin), a call
 * stays on the rtpengine that took its first offer, and one that stops answering is skipped
 * until a `ping` gets through again. When an rtpengine goes down, the calls it carried are
 * reported (`engine-down`) so the proxy can end them cleanly. A command that times out only
 * makes it suspect: it is declared down when {@link DOWN_AFTER_MISSED_PINGS} pings in a row go
 * unanswered (a busy rtpengine answering late must not cost every call it carries).
 */
import type { Logger } from 'pino';
import { TypedEmitter } from '../events/typed-emitter.js';
import type { BValue } from './bencode.js';
import { MediaError } from './media-error.js';
import type { NgClient, NgResponse } from './ng-client.js';

/** One rtpengine and what we know of it. */
export interface Engine {
  readonly client: NgClient;
  alive: boolean;
  /** Pings in a row that got no answer. */
  missedPings: number;
  /** Calls (Call-IDs) whose media it carries. */
  readonly calls: Set<string>;
}

/** Events of the set. */
export type RtpengineSetEvents = {
  /** It stopped answering (or its process died): the calls it carried have no media any more. */
  'engine-down': [address: string, callIds: string[]];
  'engine-up': [address: string];
};

/** Pings in a row without an answer (each with the client's own retries) before an rtpengine is down. */
export const DOWN_AFTER_MISSED_PINGS = 2;

/** Options of {@link RtpengineSet}. */
export interface RtpengineSetOptions {
  clients: NgClient[];
  /** How often a dead rtpengine is pinged (default 2 s), and a live one checked (default 5 s). */
  probeDeadMs?: number;
  probeAliveMs?: number;
  logger?: Logger | undefined;
}

/** Spreads calls over rtpengines, sticky per Call-ID. */
export class RtpengineSet extends TypedEmitter<RtpengineSetEvents> {
  readonly engines: Engine[];
  private readonly byCall = new Map<string, Engine>();
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private lastAliveProbe = 0;
  private closed = false;

  constructor(private readonly o: RtpengineSetOptions) {
    super();
    this.engines = o.clients.map((client) => ({ client, alive: true, missedPings: 0, calls: new Set<string>() }));
    this.onListenerError = (err, event) => o.logger?.error({ err, event }, 'rtpengine listener failed');
    this.timer = setInterval(() => void this.probe(), o.probeDeadMs ?? 2000);
    this.timer.unref();
  }

  /** True when at least one rtpengine is believed alive. */
  get available(): boolean {
    return this.engines.some((e) => e.alive);
  }

  /** Calls with media anchored, over every rtpengine. */
  get callCount(): number {
    return this.byCall.size;
  }

  /** True when the call has an rtpengine. */
  has(callId: string): boolean {
    return this.byCall.has(callId);
  }

  /**
   * Sends a command for a call: to its rtpengine, or (a new call) to the next live one. A timeout
   * marks that rtpengine dead; a new call then tries the next one.
   */
  async command(callId: string, command: string, args: { [key: string]: BValue | undefined }): Promise<NgResponse> {
    const sticky = this.byCall.get(callId);
    if (sticky) {
      if (!sticky.alive) throw new MediaError('UNAVAILABLE', `rtpengine ${sticky.client.address} is down`);
      return this.send(sticky, callId, command, args);
    }
    let lastErr: unknown;
    for (let tried = 0; tried < this.engines.length; tried++) {
      const e = this.engines[this.next++ % this.engines.length]!;
      if (!e.alive) continue;
      try {
        const r = await this.send(e, callId, command, args);
        this.byCall.set(callId, e);
        e.calls.add(callId);
        return r;
      } catch (err) {
        if (!(err instanceof MediaError) || err.code !== 'TIMEOUT') throw err;
        lastErr = err;
      }
    }
    throw new MediaError('UNAVAILABLE', 'no rtpengine is available', { cause: lastErr });
  }

  /** Forgets a call (after its `delete`). */
  release(callId: string): void {
    const e = this.byCall.get(callId);
    if (!e) return;
    e.calls.delete(callId);
    this.byCall.delete(callId);
  }

  /** An rtpengine is known to be gone (its process exited): its calls are reported at once. */
  markDown(client: NgClient): void {
    const e = this.engines.find((x) => x.client === client);
    if (e) {
      e.missedPings = DOWN_AFTER_MISSED_PINGS;
      this.down(e);
    }
  }

  /** An rtpengine is known to be back (its process started): new calls may use it. */
  markUp(client: NgClient): void {
    const e = this.engines.find((x) => x.client === client);
    if (e && !e.alive) {
      e.alive = true;
      e.missedPings = 0;
      this.o.logger?.info({ rtpengine: client.address }, 'rtpengine is back');
      this.emit('engine-up', client.address);
    }
  }

  /** Stops probing and closes the clients. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    for (const e of this.engines) e.client.close();
  }

  private async send(
    e: Engine,
    callId: string,
    command: string,
    args: { [key: string]: BValue | undefined },
  ): Promise<NgResponse> {
    try {
      return await e.client.request(command, { ...args, 'call-id': callId });
    } catch (err) {
      if (err instanceof MediaError && err.code === 'TIMEOUT') void this.check(e);
      throw err;
    }
  }

  /** Pings one rtpengine: an answer brings it back, too many misses in a row take it down. */
  private async check(e: Engine): Promise<void> {
    try {
      await e.client.request('ping');
      e.missedPings = 0;
      this.markUp(e.client);
    } catch {
      if (++e.missedPings >= DOWN_AFTER_MISSED_PINGS && e.alive) this.down(e);
      else if (e.alive && !this.closed) setTimeout(() => void this.check(e), 200).unref();
    }
  }

  private down(e: Engine): void {
    if (!e.alive) return;
    e.alive = false;
    const calls = [...e.calls];
    for (const c of calls) this.byCall.delete(c);
    e.calls.clear();
    this.o.logger?.warn({ rtpengine: e.client.address, calls: calls.length }, 'rtpengine is not answering');
    this.emit('engine-down', e.client.address, calls);
  }

  /** Pings dead rtpengines (to take them back) and, less often, live ones (to notice a silent death). */
  private async probe(): Promise<void> {
    if (this.probing || this.closed) return;
    this.probing = true;
    try {
      const now = Date.now();
      const checkAlive = now - this.lastAliveProbe >= (this.o.probeAliveMs ?? 5000);
      if (checkAlive) this.lastAliveProbe = now;
      await Promise.all(this.engines.filter((e) => !e.alive || checkAlive).map((e) => this.check(e)));
    } finally {
      this.probing = false;
    }
  }
}
