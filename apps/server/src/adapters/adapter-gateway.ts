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
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  CONFIG_TYPES,
  PROVIDER_PATH,
  PROVISIONING_API,
  SYSCLIENT_PATH,
  encryptSecret,
  type ConfigType,
  type DeviceConfig,
  type ErrorFrame,
  type ProviderServerFrame,
  type SysclientServerFrame,
} from '@handset/device-adapter';
import { rejectUpgrade } from '../api/events-route.js';
import type { Principal } from '../directory/principal.js';
import { requestToken, type TokenAuthenticator } from '../events/request-token.js';
import { AdapterProtocolError } from './adapter-error.js';
import type { AdapterService, PlainConfig, ProviderLink, SysclientLink } from './adapter-service.js';
import { SourceRateLimiter } from './source-rate-limiter.js';

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

const CLOSE_GOING_AWAY = 1001;
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_POLICY_VIOLATION = 1008;
const CLOSE_TOKEN_REVOKED = 4001;
const CLOSE_REPLACED = 4002;
const CLOSE_NO_REGISTER = 4003;
const CLOSE_REMOVED = 4004;
/** Failed Identify frames one session may send before it is closed. */
const MAX_IDENTIFY_FAILURES = 10;

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

/** A session's common state. */
interface Peer {
  ws: WebSocket;
  ip: string;
  alive: boolean;
  frames: number;
  windowAt: number;
  /** Set once the frames-per-second limit was reported in the current window. */
  warned: boolean;
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

/** The provider session of one adapter connection. */
class ProviderSession implements ProviderLink {
  private adapterId: string | undefined;
  private registering = false;
  private readonly registerTimer: NodeJS.Timeout;
  private readonly revalidateTimer: NodeJS.Timeout;

  constructor(
    private readonly gw: AdapterGateway,
    private readonly peer: Peer,
    readonly principal: Principal,
    readonly token: string,
  ) {
    const ws = peer.ws;
    this.registerTimer = setTimeout(() => {
      if (this.adapterId !== undefined) return;
      sendError(ws, 'NOT_REGISTERED', 'send Register first');
      ws.close(CLOSE_NO_REGISTER, 'no Register in time');
    }, gw.options.registerTimeoutMs ?? 10_000);
    this.registerTimer.unref();
    this.revalidateTimer = setInterval(() => void this.revalidate(), gw.options.revalidateMs ?? 60_000);
    this.revalidateTimer.unref();
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const frame = gw.frameOf(peer, data, isBinary);
      if (frame) this.handle(frame).catch((err: unknown) => this.fail(err));
    });
    ws.once('close', () => {
      clearTimeout(this.registerTimer);
      clearInterval(this.revalidateTimer);
      if (this.adapterId !== undefined) void gw.service.unregister(this.adapterId, this).catch(() => undefined);
    });
  }

  send(frame: ProviderServerFrame): void {
    if (this.peer.ws.readyState === this.peer.ws.OPEN) this.peer.ws.send(JSON.stringify(frame));
  }

  replaced(): void {
    sendError(this.peer.ws, 'REPLACED', 'another connection registered this adapter');
    this.adapterId = undefined;
    this.peer.ws.close(CLOSE_REPLACED, 'replaced by a newer connection');
  }

  removed(): void {
    sendError(this.peer.ws, 'FORBIDDEN', 'this adapter was deleted in Handset');
    this.adapterId = undefined;
    this.peer.ws.close(CLOSE_REMOVED, 'adapter deleted');
  }

  private async handle(frame: Record<string, unknown>): Promise<void> {
    switch (frame.mt) {
      case 'Register': {
        if (this.adapterId !== undefined || this.registering)
          throw new AdapterProtocolError('BAD_FRAME', 'this session is already registered');
        const api = (frame.apis as Record<string, unknown> | undefined)?.[PROVISIONING_API] as
          { title?: unknown } | undefined;
        const title = typeof api?.title === 'string' ? api.title.trim() : '';
        if (title.length === 0 || title.length > 100 || hasControlCharacter(title))
          throw new AdapterProtocolError(
            'BAD_FRAME',
            `Register needs apis["${PROVISIONING_API}"].title: 1 to 100 printable characters`,
          );
        this.registering = true;
        try {
          const id = await this.gw.service.register(this, title);
          if (this.peer.ws.readyState !== this.peer.ws.OPEN) {
            await this.gw.service.unregister(id, this);
            return;
          }
          this.adapterId = id;
          clearTimeout(this.registerTimer);
          this.send({ mt: 'Registered', id });
          this.gw.service.start(id);
        } finally {
          this.registering = false;
        }
        return;
      }
      case 'ProvisioningPhoneResult': {
        if (this.adapterId === undefined) throw new AdapterProtocolError('NOT_REGISTERED', 'send Register first');
        const { id, result, error } = frame;
        if (typeof id !== 'string' || (result !== 'ok' && result !== 'error'))
          throw new AdapterProtocolError(
            'BAD_FRAME',
            'ProvisioningPhoneResult needs a string id and result "ok" or "error"',
          );
        await this.gw.service.result(
          this.adapterId,
          id,
          result,
          typeof error === 'string' ? error.slice(0, 500) : undefined,
        );
        return;
      }
      default:
        throw unknownMt(frame.mt as string, ['Register', 'ProvisioningPhoneResult']);
    }
  }

  private fail(err: unknown): void {
    if (err instanceof AdapterProtocolError) return sendError(this.peer.ws, err.code, err.message);
    this.gw.logger.error({ err }, 'adapter frame failed');
    sendError(this.peer.ws, 'UNAVAILABLE', 'the frame could not be handled now; try again');
  }

  private async revalidate(): Promise<void> {
    const still = await this.gw.options.auth.authenticateToken(this.token).catch(() => this.principal);
    if (still === undefined) this.peer.ws.close(CLOSE_TOKEN_REVOKED, 'token revoked or expired');
  }
}

/** The configuration session of one phone. */
class SysclientSession implements SysclientLink {
  private nonce = '';
  private identifying = false;
  private failures = 0;
  private identity: { phoneId: string; password: string } | undefined;
  /** Per-type digests of what the phone has, to send only what changed. */
  private readonly sent = new Map<ConfigType, string>();
  /** A per-session key for those digests, so they say nothing about the secrets inside. */
  private readonly digestKey = randomBytes(32);
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly gw: AdapterGateway,
    private readonly peer: Peer,
    private readonly scope: Principal | undefined,
  ) {
    peer.ws.on('message', (data: RawData, isBinary: boolean) => {
      const frame = gw.frameOf(peer, data, isBinary);
      if (frame) this.handle(frame).catch((err: unknown) => this.fail(err));
    });
    peer.ws.once('close', () => {
      if (this.identity) gw.service.detachSysclient(this);
    });
    this.hello();
  }

  get phoneId(): string {
    return this.identity?.phoneId ?? '';
  }

  refresh(): void {
    this.queue(false);
  }

  replaced(): void {
    sendError(this.peer.ws, 'REPLACED', 'another configuration session opened for this phone');
    this.identity = undefined;
    this.peer.ws.close(CLOSE_REPLACED, 'replaced by a newer session');
  }

  removed(): void {
    sendError(this.peer.ws, 'FORBIDDEN', 'this phone was removed from Handset');
    this.identity = undefined;
    this.peer.ws.close(CLOSE_REMOVED, 'phone removed');
  }

  private hello(): void {
    this.nonce = randomBytes(16).toString('hex');
    this.send({ mt: 'Hello', nonce: this.nonce });
  }

  private send(frame: SysclientServerFrame): void {
    if (this.peer.ws.readyState === this.peer.ws.OPEN) this.peer.ws.send(JSON.stringify(frame));
  }

  private async handle(frame: Record<string, unknown>): Promise<void> {
    if (frame.mt !== 'Identify') throw unknownMt(frame.mt as string, ['Identify']);
    if (!this.gw.mayIdentify(this.peer.ip))
      throw new AdapterProtocolError('RATE_LIMITED', 'too many Identify frames from this address; wait a second');
    if (this.identity !== undefined)
      throw new AdapterProtocolError('ALREADY_IDENTIFIED', 'this session has identified already');
    if (this.identifying) throw new AdapterProtocolError('BAD_FRAME', 'wait for the answer to the previous Identify');
    const { mac, product, version, code, auth, info } = frame;
    if (typeof mac !== 'string' || mac.length > 32)
      throw new AdapterProtocolError('BAD_FRAME', 'Identify needs a string mac');
    if ((code === undefined) === (auth === undefined))
      throw new AdapterProtocolError('BAD_FRAME', 'Identify needs either code (first contact) or auth (reconnect)');
    if ((code !== undefined && !isToken(code)) || (auth !== undefined && !isToken(auth)))
      throw new AdapterProtocolError('BAD_FRAME', 'code and auth must be strings of up to 128 characters');
    if ((info as { type?: unknown } | undefined)?.type !== 'PHONE')
      throw new AdapterProtocolError('BAD_FRAME', 'Identify needs info.type "PHONE"');
    // The nonce answers one Identify; a failed one gets a new Hello.
    const nonce = this.nonce;
    this.nonce = '';
    this.identifying = true;
    try {
      const who = await this.gw.service.identify({
        mac,
        nonce,
        code,
        auth,
        product: typeof product === 'string' ? product : '',
        version: typeof version === 'string' ? version : '',
        scope: this.scope,
      });
      if (this.peer.ws.readyState !== this.peer.ws.OPEN) return;
      this.identity = { phoneId: who.phoneId, password: who.password };
      if (who.managerPassword) this.send({ mt: 'SetManagerPassword', ...who.managerPassword });
      this.gw.service.attachSysclient(this);
      this.queue(true);
    } catch (err) {
      if (++this.failures >= MAX_IDENTIFY_FAILURES) {
        this.fail(err);
        this.peer.ws.close(CLOSE_POLICY_VIOLATION, 'too many failed Identify frames');
        return;
      }
      this.fail(err);
      this.hello();
    } finally {
      this.identifying = false;
    }
  }

  private fail(err: unknown): void {
    if (err instanceof AdapterProtocolError) return sendError(this.peer.ws, err.code, err.message);
    this.gw.logger.error({ err }, 'sysclient frame failed');
    sendError(this.peer.ws, 'UNAVAILABLE', 'the frame could not be handled now; try again');
  }

  /** Sends the configuration (all of it, or what changed), one batch at a time. */
  private queue(all: boolean): void {
    this.chain = this.chain
      .then(() => this.sendConfigs(all))
      .catch((err: unknown) => this.gw.logger.error({ err, phone: this.phoneId }, 'sending a configuration failed'));
  }

  private async sendConfigs(all: boolean): Promise<void> {
    const identity = this.identity;
    if (!identity) return;
    const plain = await this.gw.service.configOf(identity.phoneId);
    if (!plain || this.identity !== identity) return;
    const batch = CONFIG_TYPES.map((type) => ({ type, digest: this.digest(plainOf(plain, type)) })).filter(
      (c) => all || this.sent.get(c.type) !== c.digest,
    );
    if (batch.length === 0) return;
    for (const [i, c] of batch.entries()) {
      this.send({
        mt: 'SetConfig',
        config: sealConfig(plain, c.type, identity.password),
        last: i === batch.length - 1,
      });
      this.sent.set(c.type, c.digest);
    }
    await this.gw.service.configSent(identity.phoneId, summaryOf(plain));
  }

  private digest(value: unknown): string {
    return createHmac('sha256', this.digestKey).update(JSON.stringify(value)).digest('hex');
  }
}

/**
 * What decides whether one config type changed. TURN REST credentials are new at every build
 * (their expiry is in the user name), so MEDIA counts as changed only when its servers do; the
 * phone gets fresh credentials with every batch that includes MEDIA and on every reconnect.
 */
function plainOf(p: PlainConfig, type: ConfigType): unknown {
  switch (type) {
    case 'PHONE':
      return p.phone;
    case 'MEDIA':
      return { stunServer: p.media.stunServer, turnServer: p.media.turnServer, turn: p.media.turnUser !== '' };
    case 'TLS_PROFILE':
      return p.tlsProfile;
    case 'NTP':
      return p.ntp;
    case 'SIP':
      return p.sip;
  }
}

/** The SetConfig `config` of one type, secrets encrypted with the device password. */
function sealConfig(p: PlainConfig, type: ConfigType, password: string): DeviceConfig {
  switch (type) {
    case 'PHONE':
      return { type, coder: p.phone.coder };
    case 'MEDIA': {
      const turn = p.media.turnPassword ? encryptSecret(password, p.media.turnPassword) : { seed: '', value: '' };
      return {
        type,
        stunServer: p.media.stunServer,
        turnServer: p.media.turnServer,
        turnUser: p.media.turnUser,
        turnPassword: turn.value,
        turnSeed: turn.seed,
      };
    }
    case 'TLS_PROFILE':
      return { type, profile: p.tlsProfile.profile };
    case 'NTP':
      return { type, ...p.ntp };
    case 'SIP':
      return {
        type,
        server: p.sip.server,
        port: p.sip.port,
        transport: p.sip.transport,
        lines: p.sip.lines.map((l) => {
          const s = encryptSecret(password, l.password);
          return { ...l, password: s.value, seed: s.seed };
        }),
      };
  }
}

/** What the API shows of the last configuration: no secret, only whether there is one. */
function summaryOf(p: PlainConfig): Record<string, unknown> {
  return {
    PHONE: p.phone,
    MEDIA: { ...p.media, turnPassword: p.media.turnPassword ? 'set' : '' },
    TLS_PROFILE: p.tlsProfile,
    NTP: p.ntp,
    SIP: {
      ...p.sip,
      lines: p.sip.lines.map((l) => ({ line: l.line, user: l.user, domain: l.domain, displayName: l.displayName })),
    },
  };
}

function sendError(ws: WebSocket, code: ErrorFrame['code'], message: string): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ mt: 'Error', code, message } satisfies ErrorFrame));
}

function unknownMt(mt: string, known: string[]): AdapterProtocolError {
  return new AdapterProtocolError(
    'UNKNOWN_MT',
    `unknown mt "${mt.slice(0, 40).replace(/[^\x20-\x7e]/g, '?')}"; this session takes ${known.join(', ')}`,
  );
}

function isToken(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= 128;
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20 || s.charCodeAt(i) === 0x7f) return true;
  return false;
}
