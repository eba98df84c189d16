/**
 * Publishes the call tracker's lifecycle on the bus (`call.started`, `call.answered`,
 * `call.ended`), and wraps the CDR sink so `cdr.created` follows each stored CDR.
 */
import type { ActiveCall, CallTracker, CdrSink } from '../proxy/call-tracker.js';
import type { Cdr } from '../proxy/cdr.js';
import { randomUUID } from 'node:crypto';
import type { EventBus } from './event-bus.js';
import type { CallPayload, CdrPayload, PlatformEvent } from './platform-event.js';

/** Bridges a call tracker and its CDR store to the bus. */
export class CallEventsAdapter {
  constructor(
    private readonly bus: Pick<EventBus, 'publish' | 'wants'>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Subscribes to `calls`; returns the function that stops it. */
  bridge(calls: Pick<CallTracker, 'on'>): () => void {
    const stops = [
      calls.on('started', (c) => this.publish('call.started', c.domain, () => callPayload(c))),
      calls.on('answered', (c) => this.publish('call.answered', c.domain, () => callPayload(c))),
      calls.on('ended', (cdr) => this.publish('call.ended', cdr.domain, () => cdrPayload(cdr))),
    ];
    return () => stops.forEach((stop) => stop());
  }

  /**
   * A sink that gives each CDR its id before storing it (so `call.ended` and `cdr.created` name
   * the id the REST API shows) and publishes `cdr.created` once the store has it.
   */
  wrapSink(sink: CdrSink): CdrSink {
    return {
      insert: async (cdr: Cdr) => {
        cdr.id ??= randomUUID();
        await sink.insert(cdr);
        this.publish('cdr.created', cdr.domain, () => cdrPayload(cdr));
      },
    };
  }

  /** Publishes unless nobody takes `type` (then the payload is never built: four events per call). */
  private publish(type: PlatformEvent['type'], domain: string, payload: () => CallPayload | CdrPayload): void {
    if (!this.bus.wants(type)) return;
    this.bus.publish({
      type,
      domain: domain.toLowerCase(),
      domainId: undefined,
      at: new Date(this.clock()).toISOString(),
      payload: payload(),
    } as PlatformEvent);
  }
}

function callPayload(c: ActiveCall): CallPayload {
  return {
    callId: c.callId,
    caller: c.caller,
    callee: c.callee,
    callerDevice: c.callerDevice,
    calleeDevice: c.calleeDevice,
    startedAt: new Date(c.startedAt).toISOString(),
    answeredAt: c.answeredAt === undefined ? undefined : new Date(c.answeredAt).toISOString(),
  };
}

function cdrPayload(c: Cdr): CdrPayload {
  return {
    id: c.id,
    callId: c.callId,
    caller: c.caller,
    callee: c.callee,
    callerDevice: c.callerDevice,
    calleeDevice: c.calleeDevice,
    startedAt: c.startedAt.toISOString(),
    answeredAt: c.answeredAt?.toISOString(),
    endedAt: c.endedAt.toISOString(),
    durationS: c.durationS,
    billableS: c.billableS,
    disposition: c.disposition,
    sipStatus: c.sipStatus,
    sipReason: c.sipReason,
    hangupBy: c.hangupBy,
  };
}
