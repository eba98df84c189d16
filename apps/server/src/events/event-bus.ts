/**
 * The in-process bus of platform events. Sources publish through small adapters
 * (location, calls, CDRs, directory); the event stream and webhooks subscribe.
 */
import type { Logger } from 'pino';
import type { PlatformEvent } from './platform-event.js';
import { TypedEmitter } from './typed-emitter.js';

type PlatformEventType = PlatformEvent['type'];

/** The bus's own event map: one channel carrying every platform event. */
export type EventBusEvents = {
  /** Every event, this node's and (clustered) the other nodes'. */
  event: [PlatformEvent];
  /** Only the events that happened on this node. */
  local: [PlatformEvent];
};

/**
 * Carries events between nodes of a cluster (RedisEventRelay under `REDIS_URL`). `publish` sends a
 * local event out; `subscribe` receives the other nodes' events, never this node's own, so
 * nothing is delivered twice.
 */
export interface EventRelay {
  publish(event: PlatformEvent): void;
  subscribe(deliver: (event: PlatformEvent) => void): () => void;
  close(): Promise<void>;
}

/** Options of {@link EventBus}. */
export interface EventBusOptions {
  logger?: Logger | undefined;
  relay?: EventRelay | undefined;
}

/** Fans platform events out to subscribers; a throwing subscriber is logged and the others still get the event. */
export class EventBus {
  private readonly emitter = new TypedEmitter<EventBusEvents>();
  // What each local subscriber wants (see subscribeLocal); one entry per subscription.
  private readonly localInterest = new Set<(type: PlatformEventType) => boolean>();
  private readonly relay: EventRelay | undefined;
  private readonly stopRelay: (() => void) | undefined;
  private closed = false;

  constructor(o: EventBusOptions = {}) {
    this.emitter.onListenerError = (err) => o.logger?.error({ err }, 'event subscriber failed');
    this.relay = o.relay;
    this.stopRelay = o.relay?.subscribe((e) => this.emitter.emit('event', e));
  }

  /** Publishes an event to local subscribers and, when clustered, to the other nodes. */
  publish(event: PlatformEvent): void {
    if (this.closed) return;
    this.emitter.emit('event', event);
    this.emitter.emit('local', event);
    this.relay?.publish(event);
  }

  /** Receives every event from now on; returns the unsubscribe function. */
  subscribe(listener: (event: PlatformEvent) => void): () => void {
    return this.emitter.on('event', listener);
  }

  /**
   * Receives only this node's events: for work that must happen once per event in a cluster
   * (webhook deliveries), since every node's bus sees every event.
   */
  subscribeLocal(
    listener: (event: PlatformEvent) => void,
    wants: (type: PlatformEventType) => boolean = () => true,
  ): () => void {
    const interest = (type: PlatformEventType): boolean => wants(type);
    this.localInterest.add(interest);
    const off = this.emitter.on('local', listener);
    return () => {
      off();
      this.localInterest.delete(interest);
    };
  }

  /**
   * True when an event of this type would reach someone: a stream subscriber, the other nodes, or a
   * local subscriber that wants the type. Sources on the SIP hot path ask first, and do not build an
   * event (payload, timestamps) that nobody receives: with no webhook for calls and nobody watching the
   * stream, a call publishes nothing.
   */
  wants(type: PlatformEventType): boolean {
    if (this.closed) return false;
    if (this.relay !== undefined || this.emitter.listenerCount('event') > 0) return true;
    for (const interest of this.localInterest) if (interest(type)) return true;
    return false;
  }

  /** Number of current subscribers (both kinds). */
  get subscriberCount(): number {
    return this.emitter.listenerCount('event') + this.emitter.listenerCount('local');
  }

  /** Drops every subscriber and closes the relay; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopRelay?.();
    this.emitter.removeAllListeners();
    this.localInterest.clear();
    await this.relay?.close();
  }
}
