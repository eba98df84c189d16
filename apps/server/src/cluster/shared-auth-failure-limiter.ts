/**
 * The brute-force limiter shared by the nodes of a cluster: failures from a source are counted in
 * Redis across all nodes (one counter per source IP, living for the window), and a block decided
 * there is announced to every node, which then refuses that source locally (a Map read on each
 * request, as on one node). Each node's own limiter still runs underneath, so a node cut off from
 * Redis still limits what it sees.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { AuthFailureLimiter, type AuthFailureLimiterOptions } from '../registrar/auth-failure-limiter.js';

/**
 * Counts one failure of source ARGV[1]; at ARGV[2] failures within the window (ARGV[3] ms) the
 * source is blocked for ARGV[4] ms from ARGV[5] (now) and the block is published. Returns the count (0 when it blocked).
 */
const COUNT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if n >= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[1])
  local untilMs = tonumber(ARGV[5]) + tonumber(ARGV[4])
  redis.call('SET', KEYS[2], untilMs, 'PX', ARGV[4])
  redis.call('PUBLISH', KEYS[3], ARGV[1] .. ' ' .. untilMs)
  return 0
end
return n`;

/** Options of {@link SharedAuthFailureLimiter}. */
export interface SharedAuthFailureLimiterOptions extends AuthFailureLimiterOptions {
  redis: Redis;
  prefix: string;
  logger?: Logger | undefined;
}

/** Most blocks remembered from the channel (oldest forgotten first). */
const MAX_BLOCKS = 100_000;

/** An AuthFailureLimiter whose counts and blocks are the cluster's (see the file comment). */
export class SharedAuthFailureLimiter extends AuthFailureLimiter {
  private readonly blocks = new Map<string, number>();
  private readonly shared: SharedAuthFailureLimiterOptions;

  constructor(options: SharedAuthFailureLimiterOptions) {
    super(options);
    this.shared = options;
  }

  /** The channel blocks are announced on. */
  get channel(): string {
    return `${this.shared.prefix}authblock`;
  }

  /** Counts the failure here and in the cluster. */
  override recordFailure(ip: string): void {
    super.recordFailure(ip);
    const now = this.shared.clock();
    this.shared.redis
      .eval(
        COUNT,
        3,
        `${this.shared.prefix}authfail:${ip}`,
        `${this.shared.prefix}authblocked:${ip}`,
        this.channel,
        ip,
        String(Math.max(1, Math.floor(this.shared.maxFailures))),
        String(this.shared.windowMs),
        String(this.shared.blockMs),
        String(now),
      )
      .then((n) => {
        if (n === 0) this.block(ip, now + this.shared.blockMs);
      })
      .catch((err: unknown) => this.shared.logger?.warn({ err }, 'could not count an auth failure in Redis'));
  }

  /** True while the source is blocked here or by the cluster. */
  override isBlocked(ip: string): boolean {
    if (super.isBlocked(ip)) return true;
    const until = this.blocks.get(ip);
    if (until === undefined) return false;
    if (until > this.shared.clock()) return true;
    this.blocks.delete(ip);
    return false;
  }

  /** A block announced on the channel (`<ip> <until ms>`; anything else is ignored). */
  handleMessage(message: string): void {
    if (message.length > 128) return;
    const [ip, until] = message.split(' ');
    const untilMs = Number(until);
    if (ip === undefined || ip === '' || !Number.isFinite(untilMs)) return;
    this.block(ip, untilMs);
  }

  private block(ip: string, untilMs: number): void {
    if (untilMs <= this.shared.clock()) return;
    this.blocks.delete(ip);
    if (this.blocks.size >= MAX_BLOCKS) this.blocks.delete(this.blocks.keys().next().value!);
    this.blocks.set(ip, Math.max(untilMs, this.blocks.get(ip) ?? 0));
  }
}
