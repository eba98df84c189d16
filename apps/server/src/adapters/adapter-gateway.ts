/**
 * The two WebSockets of the device-adapter protocol (docs/device-adapters.md), on the HTTP(S)
 * server's upgrades:
 *  - `/api/v1/adapters`: the provider session, authenticated by an API token (owner, admin or
 *    superadmin): Register -> Registered, then ProvisioningPhone / ProvisioningPhoneResult.
 *  - `/api/v1/sysclients`: one configuration session per phone: Hello (nonce) -> Identify (code
 *    or HMAC) -> SetManagerPassword (first contact) -> SetConfig ... last:true, and again after
 *    every change that touches the phone.
 * A bad frame gets an `Error` frame and never affects another session. Frames are limited in
 * size (a larger one closes that WebSocket with 1009, RFC 6455 §7.4.1), Identify frames are
 * rate limited per source address, and connections per address are capped.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { PROVIDER_PATH, SYSCLIENT_PATH } from '@handset/device-adapter';
import { rejectUpgrade } from '../api/events-route.js';
import type { Principal } from '../directory/principal.js';
import { requestToken, type TokenAuthenticator } from '../events/request-token.js';
import { CLOSE_GOING_AWAY, CLOSE_UNSUPPORTED_DATA, rawText, sendError, type Peer } from './adapter-frames.js';
import type { AdapterService } from './adapter-service.js';
import { ProviderSession } from './provider-session.js';
import { SourceRateLimiter } from './source-rate-limiter.js';
import { SysclientSession } from './sysclient-session.js';

/** Options of {@link AdapterGateway.attach}. */
export interface AdapterGatewayOptions {
  server: HttpServer | HttpsServer;
  service: AdapterService;
  auth: TokenAuthenticator;
  logger: Logger;
  /** Largest frame accepted (default 64 KiB); larger ones close the WebSocket with 1009. */
  maxPayload?: number | undefined;
  /**
   * The per-source limits; pass one instance to the HTTP and the HTTPS gateway, so a source
   * cannot double its allowance by using both ports (default: a new one).
   */
  limits?: AdapterSourceLimits | undefined;
  /** Frames per second one WebSocket may send before it is refused (default 50). */
  maxFramesPerS?: number | undefined;
  /** A provider must Register within this time (default 10 s). */
  registerTimeoutMs?: number | undefined;
  /** Ping interval; a peer that missed the previous ping is dropped (default 30 s). */
  pingIntervalMs?: number | undefined;
  /** Provider tokens are checked again this often, so a revoked token ends its session (default 60 s). */
  revalidateMs?: number | undefined;
}

/** What one source address may do on the adapter WebSockets, across every gateway sharing it. */
export class AdapterSourceLimits {
  /** Identify frames: 10 a second, bursts of 20 (guessing codes or HMACs stays slow). */
  readonly identifies: SourceRateLimiter;
  /** Upgrades: 20 a second, bursts of 100 (each costs a token look-up). */
  readonly upgrades: SourceRateLimiter;
  readonly #held = new Map<string, number>();

  constructor(
    private readonly o: {
      identifyRatePerS?: number;
      identifyBurst?: number;
      upgradeRatePerS?: number;
      upgradeBurst?: number;
      /** WebSockets one source may hold on both paths (default 256: a gateway next to many phones). */
      maxConnectionsPerIp?: number;
    } = {},
  ) {
    this.identifies = new SourceRateLimiter({ ratePerS: o.identifyRatePerS ?? 10, burst: o.identifyBurst ?? 20 });
    this.upgrades = new SourceRateLimiter({ ratePerS: o.upgradeRatePerS ?? 20, burst: o.upgradeBurst ?? 100 });
  }

  /** Counts one more WebSocket for `ip`; false when it holds the most already. */
  hold(ip: string): boolean {
    const n = this.#held.get(ip) ?? 0;
    if (n >= (this.o.maxConnectionsPerIp ?? 256)) return false;
    this.#held.set(ip, n + 1);
    return true;
  }

  /** One WebSocket of `ip` is gone. */
  release(ip: string): void {
    const n = (this.#held.get(ip) ?? 1) - 1;
    if (n <= 0) this.#held.delete(ip);
    else this.#held.set(ip, n);
  }
}

/** The adapter WebSockets (see the file comment). */
export class AdapterGateway {
  private readonly wss: WebSocketServer;
  private readonly peers = new Set<Peer>();
  private readonly limits: AdapterSourceLimits;
  private readonly pingTimer: NodeJS.Timeout;
  private closing = false;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    this.upgrade(req, socket, head).catch((err: unknown) => {
      this.o.logger.warn({ err }, 'adapter upgrade failed');
      socket.destroy();
    });
  };

  private constructor(private readonly o: AdapterGatewayOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: o.maxPayload ?? 64 << 10,
    });
    this.limits = o.limits ?? new AdapterSourceLimits();
    this.pingTimer = setInterval(() => this.heartbeat(), o.pingIntervalMs ?? 30_000);
    this.pingTimer.unref();
    o.server.on('upgrade', this.onUpgrade);
  }

  /** Starts taking upgrades at {@link PROVIDER_PATH} and {@link SYSCLIENT_PATH} on `o.server`. */
  static attach(o: AdapterGatewayOptions): AdapterGateway {
    return new AdapterGateway(o);
  }

  /** Stops taking upgrades and closes every adapter WebSocket; idempotent. */
  close(): Promise<void> {
    if (this.closing) return Promise.resolve();
    this.closing = true;
    this.o.server.off('upgrade', this.onUpgrade);
    clearInterval(this.pingTimer);
    for (const p of this.peers) {
      p.ws.close(CLOSE_GOING_AWAY, 'server shutting down');
      setTimeout(() => p.ws.terminate(), 1000).unref();
    }
    this.peers.clear();
    this.wss.close();
    return Promise.resolve();
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== PROVIDER_PATH && path !== SYSCLIENT_PATH) return;
    socket.on('error', (err) => this.o.logger.debug({ err }, 'adapter socket error'));
    if (this.closing) return rejectUpgrade(socket, 503, 'SHUTTING_DOWN', 'Server is shutting down');
    const ip = req.socket.remoteAddress ?? '';
    if (!this.limits.upgrades.take(ip))
      return rejectUpgrade(socket, 429, 'RATE_LIMITED', 'Too many adapter connections opened from this address');
    if (!this.limits.hold(ip))
      return rejectUpgrade(socket, 429, 'TOO_MANY_CONNECTIONS', 'Too many adapter connections from this address');
    let adopted = false;
    try {
      const token = requestToken(req.headers);
      let principal: Principal | undefined;
      if (token !== undefined) {
        principal = await this.o.auth.authenticateToken(token);
        if (!principal) return rejectUpgrade(socket, 401, 'UNAUTHORIZED', 'Invalid or expired token');
      }
      if (path === PROVIDER_PATH) {
        if (!principal || token === undefined)
          return rejectUpgrade(socket, 401, 'UNAUTHORIZED', 'An API token is required (Authorization: Bearer)');
        if (!['superadmin', 'owner', 'admin'].includes(principal.role))
          return rejectUpgrade(socket, 403, 'FORBIDDEN', 'Only an owner, admin or superadmin token can run an adapter');
      }
      if (socket.destroyed || this.closing) return;
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        adopted = true;
        const peer = this.adopt(ws, ip);
        if (path === PROVIDER_PATH) new ProviderSession(this, peer, principal!, token!);
        else new SysclientSession(this, peer, principal);
      });
    } catch (err) {
      this.o.logger.error({ err }, 'adapter upgrade authorization failed');
      rejectUpgrade(socket, 503, 'UNAVAILABLE', 'Cannot check the token now');
    } finally {
      if (!adopted) this.release(ip);
    }
  }

  private adopt(ws: WebSocket, ip: string): Peer {
    const peer: Peer = { ws, ip, alive: true, frames: 0, windowAt: Date.now(), warned: false };
    this.peers.add(peer);
    ws.on('pong', () => (peer.alive = true));
    ws.on('error', (err) => this.o.logger.debug({ err: err.message }, 'adapter WebSocket error'));
    ws.once('close', () => {
      this.peers.delete(peer);
      this.release(ip);
    });
    return peer;
  }

  private release(ip: string): void {
    this.limits.release(ip);
  }

  private heartbeat(): void {
    for (const p of this.peers) {
      if (!p.alive) {
        p.ws.terminate();
        continue;
      }
      p.alive = false;
      p.ws.ping();
    }
  }

  /** @internal The session helpers below. */
  get service(): AdapterService {
    return this.o.service;
  }
  /** @internal */
  get logger(): Logger {
    return this.o.logger;
  }
  /** @internal */
  get options(): AdapterGatewayOptions {
    return this.o;
  }
  /** @internal An Identify from `ip` may go ahead. */
  mayIdentify(ip: string): boolean {
    return this.limits.identifies.take(ip);
  }

  /**
   * @internal Reads one frame: a JSON object with a string `mt`, within the frame rate. Sends the
   * Error itself and returns undefined for anything else.
   */
  frameOf(peer: Peer, data: RawData, isBinary: boolean): Record<string, unknown> | undefined {
    const now = Date.now();
    if (now - peer.windowAt >= 1000) {
      peer.windowAt = now;
      peer.frames = 0;
      peer.warned = false;
    }
    if (++peer.frames > (this.o.maxFramesPerS ?? 50)) {
      // One Error per window: answering every frame of a flood would be a flood.
      if (!peer.warned) sendError(peer.ws, 'RATE_LIMITED', 'too many frames; slow down');
      peer.warned = true;
      return undefined;
    }
    if (isBinary) {
      peer.ws.close(CLOSE_UNSUPPORTED_DATA, 'binary frames are not accepted');
      return undefined;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawText(data));
    } catch {
      sendError(peer.ws, 'BAD_JSON', 'the frame is not valid JSON');
      return undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      sendError(peer.ws, 'BAD_FRAME', 'a frame must be a JSON object');
      return undefined;
    }
    const frame = parsed as Record<string, unknown>;
    if (typeof frame.mt !== 'string') {
      sendError(peer.ws, 'BAD_FRAME', 'a frame needs a string "mt"');
      return undefined;
    }
    return frame;
  }
}
