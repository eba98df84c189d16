/**
 * Platform events shared between the nodes of a cluster over Redis pub/sub (`REDIS_URL`), so a
 * console connected to one node sees registrations and calls handled by another.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { EventRelay } from './event-bus.js';
import type { PlatformEvent } from './platform-event.js';

/** Options of {@link RedisEventRelay.connect}. */
export interface RedisEventRelayOptions {
  url: string;
  /** Pub/sub channel (default `handset:events`); nodes of one cluster share it. */
  channel?: string | undefined;
  logger?: Logger | undefined;
}

/** Largest message taken from the channel; anything bigger is not one of ours. */
const MAX_MESSAGE_BYTES = 1 << 20;

/** An EventRelay over two Redis connections (a subscribed connection cannot publish). */
export class RedisEventRelay implements EventRelay {
  /** Tags this node's messages so it ignores its own echo. */
  private readonly nodeId = randomBytes(8).toString('hex');
  private readonly deliver = new Set<(event: PlatformEvent) => void>();
  private closed = false;

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly channel: string,
    private readonly logger: Logger | undefined,
  ) {
    sub.on('message', (ch: string, message: string) => {
      if (ch === this.channel) this.receive(message);
    });
  }

  /** Connects and subscribes; rejects when Redis cannot be reached. */
  static async connect(o: RedisEventRelayOptions): Promise<RedisEventRelay> {
    const options = { lazyConnect: true, maxRetriesPerRequest: 2 };
    const pub = new Redis(o.url, options);
    const sub = new Redis(o.url, options);
    // ioredis reconnects by itself; its errors are logged here rather than reported as unhandled.
    for (const c of [pub, sub])
      c.on('error', (err: Error) => o.logger?.warn({ err: err.message }, 'Redis event relay error'));
    try {
      await Promise.all([pub.connect(), sub.connect()]);
      const channel = o.channel ?? 'handset:events';
      await sub.subscribe(channel);
      return new RedisEventRelay(pub, sub, channel, o.logger);
    } catch (err) {
      pub.disconnect();
      sub.disconnect();
      throw err;
    }
  }

  /** Sends a local event to the other nodes (fire and forget: a lost event is logged, not retried). */
  publish(event: PlatformEvent): void {
    if (this.closed) return;
    this.pub
      .publish(this.channel, JSON.stringify({ node: this.nodeId, event }))
      .catch((err: unknown) => this.logger?.warn({ err }, 'could not relay event'));
  }

  /** Receives the other nodes' events. */
  subscribe(deliver: (event: PlatformEvent) => void): () => void {
    this.deliver.add(deliver);
    return () => this.deliver.delete(deliver);
  }

  /** Unsubscribes and closes both connections; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deliver.clear();
    await Promise.allSettled([this.sub.quit(), this.pub.quit()]);
  }

  /** Anything on the channel may be foreign: malformed messages are dropped, never thrown. */
  private receive(message: string): void {
    if (message.length > MAX_MESSAGE_BYTES) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      this.logger?.debug('non-JSON message on the event channel');
      return;
    }
    const m = parsed as { node?: unknown; event?: Partial<PlatformEvent> };
    const e = m.event;
    if (m.node === this.nodeId || typeof e !== 'object' || e === null) return;
    if (typeof e.type !== 'string' || typeof e.at !== 'string' || typeof e.payload !== 'object' || e.payload === null)
      return;
    if (typeof e.domain !== 'string' && typeof e.domainId !== 'string') return;
    for (const d of this.deliver) d(e as PlatformEvent);
  }
}
