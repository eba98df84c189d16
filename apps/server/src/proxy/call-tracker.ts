/**
 * Follows calls through the proxy and writes one CDR per call attempt when the dialog ends:
 * BYE, CANCEL, a final failure, or the dialog timeout that covers a lost BYE.
 */
import type { Logger } from 'pino';
import { TypedEmitter } from '../events/typed-emitter.js';
import type { Cdr, CdrDisposition } from './cdr.js';

/** A call in progress, as the console and API see it. */
export interface ActiveCall {
  readonly callId: string;
  readonly domain: string;
  readonly caller: string;
  readonly callee: string;
  /** The caller's From tag, to tell who sent the BYE. */
  readonly callerTag: string;
  readonly callerDevice: string | undefined;
  calleeDevice: string | undefined;
  readonly startedAt: number;
  answeredAt: number | undefined;
}

/** Call lifecycle events. */
export type CallEvents = {
  started: [ActiveCall];
  answered: [ActiveCall];
  ended: [Cdr];
};

/** Where CDRs go (the CdrRepository). */
export interface CdrSink {
  insert(cdr: Cdr): Promise<void>;
}

/** Options for CallTracker. */
export interface CallTrackerOptions {
  sink: CdrSink;
  /** An answered call with no in-dialog request for this long is closed (default 4 h). */
  dialogTimeoutMs?: number;
  clock?: () => number;
  logger?: Logger | undefined;
}

/** Tracks calls by Call-ID and records their CDRs. */
export class CallTracker extends TypedEmitter<CallEvents> {
  /** Every call by Call-ID, with the time of its last sign of life (the 2xx, then each in-dialog request). */
  private readonly calls = new Map<string, { call: ActiveCall; lastActivity: number }>();
  private readonly clock: () => number;
  private readonly dialogTimeoutMs: number;
  private readonly sweepMs: number;
  /**
   * One timer for every answered call's dialog timeout, instead of a timer per call re-armed by each
   * in-dialog request: it runs while answered calls exist and ends those silent for dialogTimeoutMs,
   * at most sweepMs late (a minute for the default 4 h).
   */
  private sweeper: NodeJS.Timeout | undefined;
  private answeredCount = 0;
  private readonly writes = new Set<Promise<void>>();

  constructor(private readonly o: CallTrackerOptions) {
    super();
    this.clock = o.clock ?? Date.now;
    this.dialogTimeoutMs = o.dialogTimeoutMs ?? 4 * 3600_000;
    this.sweepMs = Math.min(60_000, Math.max(10, Math.floor(this.dialogTimeoutMs / 8)));
    this.onListenerError = (err, event) => o.logger?.error({ err, event }, 'call event listener failed');
  }

  /** Calls being set up or talking. */
  get active(): number {
    return this.calls.size;
  }

  /** An initial INVITE passed authentication and is being routed. */
  start(call: Omit<ActiveCall, 'startedAt' | 'answeredAt' | 'calleeDevice'>): void {
    if (this.calls.has(call.callId)) return;
    // Every field named (not `...call`): one object shape for every call, and no copy of whatever else
    // the caller's object carries.
    const c: ActiveCall = {
      callId: call.callId,
      domain: call.domain,
      caller: call.caller,
      callee: call.callee,
      callerTag: call.callerTag,
      callerDevice: call.callerDevice,
      calleeDevice: undefined,
      startedAt: this.clock(),
      answeredAt: undefined,
    };
    this.calls.set(call.callId, { call: c, lastActivity: c.startedAt });
    this.emit('started', c);
  }

  /** A 2xx to the initial INVITE went upstream. */
  answered(callId: string, calleeDevice: string | undefined): void {
    const entry = this.calls.get(callId);
    if (!entry || entry.call.answeredAt !== undefined) return;
    entry.call.answeredAt = this.clock();
    entry.call.calleeDevice = calleeDevice;
    entry.lastActivity = entry.call.answeredAt;
    this.answeredCount++;
    this.sweeper ??= setInterval(() => this.sweep(), this.sweepMs).unref();
    this.emit('answered', entry.call);
  }

  /** Any in-dialog request: the dialog is alive, push the timeout back. */
  touch(callId: string): void {
    const entry = this.calls.get(callId);
    if (entry?.call.answeredAt !== undefined) entry.lastActivity = this.clock();
  }

  /** True when a call with that Call-ID is known. */
  has(callId: string): boolean {
    return this.calls.has(callId);
  }

  /** The call ended: writes its CDR. `hangupBy` says which side ended an answered call. */
  end(
    callId: string,
    outcome: {
      status: number;
      reason: string;
      disposition?: CdrDisposition;
      hangupBy?: 'caller' | 'callee' | 'system';
      /** The From tag of the BYE, resolved to caller or callee. */
      hangupByTag?: string;
    },
  ): void {
    const entry = this.calls.get(callId);
    if (!entry) return;
    this.calls.delete(callId);
    const { call } = entry;
    if (call.answeredAt !== undefined && --this.answeredCount === 0) this.stopSweeper();
    const endedAt = this.clock();
    const hangupBy =
      outcome.hangupBy ??
      (outcome.hangupByTag === undefined ? undefined : outcome.hangupByTag === call.callerTag ? 'caller' : 'callee');
    const disposition = outcome.disposition ?? dispositionOf(outcome.status, call.answeredAt !== undefined);
    const cdr: Cdr = {
      callId: call.callId,
      domain: call.domain,
      caller: call.caller,
      callee: call.callee,
      callerDevice: call.callerDevice,
      calleeDevice: call.calleeDevice,
      startedAt: new Date(call.startedAt),
      answeredAt: call.answeredAt === undefined ? undefined : new Date(call.answeredAt),
      endedAt: new Date(endedAt),
      durationS: round3((endedAt - call.startedAt) / 1000),
      billableS: call.answeredAt === undefined ? 0 : round3((endedAt - call.answeredAt) / 1000),
      disposition,
      sipStatus: outcome.status,
      sipReason: outcome.reason,
      hangupBy,
    };
    const write = this.o.sink
      .insert(cdr)
      .catch((err: unknown) => this.o.logger?.error({ err, callId }, 'could not write CDR'))
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
    this.emit('ended', cdr);
  }

  /** Ends every open call (server shutdown) and waits for CDR writes. Idempotent. */
  async close(): Promise<void> {
    for (const callId of [...this.calls.keys()])
      this.end(callId, { status: 503, reason: 'Server shutting down', hangupBy: 'system' });
    this.stopSweeper();
    await Promise.all([...this.writes]);
  }

  /** Ends the answered calls that showed no sign of life for dialogTimeoutMs (a BYE that was lost). */
  private sweep(): void {
    const silentSince = this.clock() - this.dialogTimeoutMs;
    for (const [callId, entry] of this.calls) {
      if (entry.call.answeredAt === undefined || entry.lastActivity > silentSince) continue;
      this.end(callId, { status: 408, reason: 'Dialog timeout', disposition: 'answered', hangupBy: 'system' });
    }
  }

  private stopSweeper(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

/** Maps a final status to a disposition (answered calls stay answered whatever ends them). */
export function dispositionOf(status: number, answered: boolean): CdrDisposition {
  if (answered || (status >= 200 && status < 300)) return 'answered';
  if (status === 486 || status === 600 || status === 603) return 'busy';
  if (status === 487) return 'cancelled';
  if (status === 408 || status === 480) return 'no-answer';
  return 'failed';
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
