/**
 * `GET /api/v1/events`: a WebSocket that pushes the platform events the caller may see, as JSON
 * `{type, payload, at}`. Token auth happens on the upgrade request (a bad token gets 401 and no
 * WebSocket). Owners and admins see their domain, agents their own registrations, calls and user
 * record, a superadmin everything (or one domain with `?domain=`); `?types=call.*,cdr.created`
 * narrows the stream to those types.
 *
 * It shares the HTTP server's 'upgrade' event with SIP over WebSocket (`/sip`): each listener
 * takes only its own path, and this one answers 404 for paths nobody serves, so an upgrade
 * request is never left hanging.
 */
import { STATUS_CODES, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { DirectoryServices } from '../directory/directory-services.js';
import { CLI_PRINCIPAL, type Principal } from '../directory/principal.js';
import type { EventBus } from '../events/event-bus.js';
import {
  EVENT_FILTER,
  eventParties,
  eventTypeMatches,
  type DirectoryPayload,
  type PlatformEvent,
} from '../events/platform-event.js';
import { requestToken, type TokenAuthenticator } from '../events/request-token.js';

/** Options of {@link EventStream.attach}. */
export interface EventStreamOptions {
  server: HttpServer | HttpsServer;
  bus: Pick<EventBus, 'subscribe'>;
  auth: TokenAuthenticator;
  /** The AORs (`ext@domain`) of an agent, whose registrations and calls they may see. */
  aorsOf?: ((principal: Principal) => Promise<readonly string[]>) | undefined;
  /** Resolves a superadmin's `?domain=` filter; without it the filter matches by name only. */
  findDomain?: ((domain: string) => Promise<{ id: string; domain: string } | undefined>) | undefined;
  path?: string | undefined;
  /** Paths other 'upgrade' listeners of the server own (default `/sip`). */
  otherPaths?: readonly string[] | undefined;
  logger?: Logger | undefined;
  /** A client whose unsent data exceeds this is dropped (default 1 MiB). */
  maxBufferedBytes?: number | undefined;
  /** Largest frame a client may send (default 4 KiB; clients have nothing to say). */
  maxPayload?: number | undefined;
  /** Ping interval; a client that has not answered the previous ping is dropped (default 30 s). */
  pingIntervalMs?: number | undefined;
  /** The token is checked again this often, so a revoked token loses its stream (default 60 s). */
  revalidateMs?: number | undefined;
  /** WebSockets (open or authenticating) one source address may hold (default 32). */
  maxConnectionsPerIp?: number | undefined;
  /** WebSockets in all (default 10,000). */
  maxConnections?: number | undefined;
  /** Text frames a client may send per ping interval before it is dropped (default 100). */
  maxMessagesPerInterval?: number | undefined;
  clock?: (() => number) | undefined;
}

/** Close codes (RFC 6455 §7.4.1, plus the 4000 private range). */
const CLOSE_GOING_AWAY = 1001;
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_POLICY_VIOLATION = 1008;
const CLOSE_TOKEN_REVOKED = 4001;

/** What one connection may see. */
interface Scope {
  principal: Principal;
  token: string;
  /** Undefined: every domain (superadmin without filter). */
  domainId: string | undefined;
  domain: string | undefined;
  /** Set for agents: the AORs whose events they see. */
  aors: ReadonlySet<string> | undefined;
  /** `?types=call.*,cdr.created`: only these (default every type). */
  types: readonly string[] | undefined;
}

interface Client {
  ws: WebSocket;
  scope: Scope;
  alive: boolean;
  messages: number;
  checkedAt: number;
  unsubscribe: () => void;
}

/** Thrown inside the upgrade to answer with an HTTP error. */
class UpgradeRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The event stream endpoint, attached to an HTTP(S) server's upgrades. */
export class EventStream {
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly perIp = new Map<string, number>();
  private pending = 0;
  private readonly path: string;
  private readonly otherPaths: ReadonlySet<string>;
  private readonly maxBuffered: number;
  private readonly revalidateMs: number;
  private readonly maxMessages: number;
  private readonly clock: () => number;
  private readonly pingTimer: NodeJS.Timeout;
  private closing: Promise<void> | undefined;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    this.upgrade(req, socket, head).catch((err: unknown) => {
      this.o.logger?.warn({ err }, 'event stream upgrade failed');
      socket.destroy();
    });
  };

  private constructor(private readonly o: EventStreamOptions) {
    this.path = o.path ?? '/api/v1/events';
    this.otherPaths = new Set(o.otherPaths ?? ['/sip']);
    this.maxBuffered = o.maxBufferedBytes ?? 1 << 20;
    this.revalidateMs = o.revalidateMs ?? 60_000;
    this.maxMessages = o.maxMessagesPerInterval ?? 100;
    this.clock = o.clock ?? Date.now;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: o.maxPayload ?? 4096,
    });
    this.pingTimer = setInterval(() => this.heartbeat(), o.pingIntervalMs ?? 30_000);
    this.pingTimer.unref();
    o.server.on('upgrade', this.onUpgrade);
  }

  /** Starts taking upgrades at the stream's path on `o.server`. */
  static attach(o: EventStreamOptions): EventStream {
    return new EventStream(o);
  }

  /** Open WebSockets. */
  get connectionCount(): number {
    return this.clients.size;
  }

  /** Stops taking upgrades and closes every stream (1001 going away); idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.o.server.off('upgrade', this.onUpgrade);
      clearInterval(this.pingTimer);
      for (const c of [...this.clients]) {
        c.ws.close(CLOSE_GOING_AWAY, 'server shutting down');
        // Do not wait for the close handshake of a client that no longer reads.
        setTimeout(() => c.ws.terminate(), 1000).unref();
        this.forget(c);
      }
      this.wss.close();
      resolve();
    });
    return this.closing;
  }

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://handset.invalid');
    } catch {
      rejectUpgrade(socket, 400, 'BAD_REQUEST', 'Malformed request URL');
      return;
    }
    if (url.pathname !== this.path) {
      if (!this.otherPaths.has(url.pathname)) rejectUpgrade(socket, 404, 'NOT_FOUND', 'No such resource');
      return;
    }
    socket.on('error', (err) => this.o.logger?.debug({ err }, 'event stream socket error'));
    if (this.closing !== undefined) {
      rejectUpgrade(socket, 503, 'SHUTTING_DOWN', 'Server is shutting down');
      return;
    }
    const ip = req.socket.remoteAddress ?? '';
    if (this.clients.size + this.pending >= (this.o.maxConnections ?? 10_000)) {
      rejectUpgrade(socket, 503, 'TOO_MANY_CONNECTIONS', 'Too many event streams');
      return;
    }
    const held = this.perIp.get(ip) ?? 0;
    if (held >= (this.o.maxConnectionsPerIp ?? 32)) {
      rejectUpgrade(socket, 429, 'TOO_MANY_CONNECTIONS', 'Too many event streams from this address');
      return;
    }
    // Counted from here (while the token is checked) so a flood of upgrades cannot pile up.
    this.perIp.set(ip, held + 1);
    this.pending++;
    let adopted = false;
    try {
      const scope = await this.authorize(req, url);
      if (socket.destroyed || this.closing !== undefined) return;
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        adopted = true;
        this.adopt(ws, scope, ip);
      });
    } catch (err) {
      if (err instanceof UpgradeRefusal) rejectUpgrade(socket, err.status, err.code, err.message);
      else {
        // A directory look-up failed: the caller gets an answer, not a dropped connection.
        this.o.logger?.error({ err }, 'event stream authorization failed');
        rejectUpgrade(socket, 503, 'UNAVAILABLE', 'Cannot open the event stream now');
      }
    } finally {
      this.pending--;
      // handleUpgrade calls back synchronously when the handshake is valid; otherwise it has
      // answered 400 itself and the socket is gone.
      if (!adopted) this.release(ip);
    }
  }

  /** Checks the token and works out what the caller may see; throws an UpgradeRefusal. */
  private async authorize(req: IncomingMessage, url: URL): Promise<Scope> {
    const token = requestToken(req.headers, url.searchParams);
    if (token === undefined) throw new UpgradeRefusal(401, 'UNAUTHORIZED', 'A token is required');
    const principal = await this.o.auth.authenticateToken(token).catch((err: unknown) => {
      this.o.logger?.error({ err }, 'token check failed');
      throw new UpgradeRefusal(503, 'UNAVAILABLE', 'Cannot check the token now');
    });
    if (principal === undefined) throw new UpgradeRefusal(401, 'UNAUTHORIZED', 'Invalid or expired token');
    const types = parseTypes(url.searchParams.get('types'));
    const wanted = url.searchParams.get('domain')?.trim().toLowerCase() || undefined;
    if (principal.role === 'superadmin') {
      if (wanted === undefined)
        return { principal, token, domainId: undefined, domain: undefined, aors: undefined, types };
      if (this.o.findDomain === undefined)
        return { principal, token, domainId: undefined, domain: wanted, aors: undefined, types };
      const found = await this.o.findDomain(wanted);
      if (found === undefined) throw new UpgradeRefusal(404, 'NOT_FOUND', 'No such domain');
      return { principal, token, domainId: found.id, domain: found.domain, aors: undefined, types };
    }
    const domain = principal.domain?.toLowerCase();
    if (principal.domainId === undefined && domain === undefined)
      throw new UpgradeRefusal(403, 'FORBIDDEN', 'This account has no domain');
    if (wanted !== undefined && wanted !== domain)
      throw new UpgradeRefusal(403, 'FORBIDDEN', 'Events of another domain are not visible to this account');
    const aors = principal.role === 'agent' ? new Set((await this.o.aorsOf?.(principal)) ?? []) : undefined;
    return { principal, token, domainId: principal.domainId, domain, aors, types };
  }

  private adopt(ws: WebSocket, scope: Scope, ip: string): void {
    const client: Client = { ws, scope, alive: true, messages: 0, checkedAt: this.clock(), unsubscribe: () => {} };
    this.clients.add(client);
    ws.on('pong', () => (client.alive = true));
    ws.on('error', (err) => this.o.logger?.debug({ err: err.message }, 'event stream client error'));
    ws.on('message', (_data: RawData, isBinary: boolean) => this.onClientMessage(client, isBinary));
    ws.once('close', () => {
      this.forget(client);
      this.release(ip);
    });
    client.unsubscribe = this.o.bus.subscribe((e) => {
      if (visible(scope, e)) this.send(client, { type: e.type, payload: e.payload, at: e.at });
    });
    this.send(client, {
      type: 'stream.ready',
      payload: { role: scope.principal.role, domain: scope.domain },
      at: new Date(this.clock()).toISOString(),
    });
  }

  /** Clients have nothing to send; binary frames and floods end the stream. */
  private onClientMessage(client: Client, isBinary: boolean): void {
    if (isBinary) {
      client.ws.close(CLOSE_UNSUPPORTED_DATA, 'binary frames are not accepted');
      return;
    }
    if (++client.messages > this.maxMessages) client.ws.close(CLOSE_POLICY_VIOLATION, 'too many messages');
  }

  /** Sends, or drops a client that does not read fast enough instead of buffering without end. */
  private send(client: Client, message: { type: string; payload: unknown; at: string }): void {
    const { ws } = client;
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > this.maxBuffered) {
      this.o.logger?.info({ user: client.scope.principal.userId }, 'event stream client too slow; dropped');
      this.forget(client);
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(message));
  }

  /** Pings every client, drops those that missed the last ping, re-checks tokens now and then. */
  private heartbeat(): void {
    const now = this.clock();
    for (const client of this.clients) {
      if (!client.alive) {
        this.forget(client);
        client.ws.terminate();
        continue;
      }
      client.alive = false;
      client.messages = 0;
      client.ws.ping();
      if (now - client.checkedAt >= this.revalidateMs) {
        client.checkedAt = now;
        this.o.auth.authenticateToken(client.scope.token).then(
          (p) => {
            if (p === undefined) client.ws.close(CLOSE_TOKEN_REVOKED, 'token no longer valid');
          },
          (err: unknown) => this.o.logger?.warn({ err }, 'token re-check failed; stream kept'),
        );
      }
    }
  }

  private forget(client: Client): void {
    if (!this.clients.delete(client)) return;
    client.unsubscribe();
  }

  private release(ip: string): void {
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }
}

/** True when the connection's scope covers the event. */
function visible(scope: Scope, e: PlatformEvent): boolean {
  if (scope.types !== undefined && !scope.types.some((f) => eventTypeMatches(f, e.type))) return false;
  if (scope.domainId !== undefined || scope.domain !== undefined) {
    const inDomain =
      (e.domainId !== undefined && e.domainId === scope.domainId) ||
      (e.domain !== undefined && e.domain === scope.domain);
    if (!inDomain) return false;
  }
  if (scope.aors === undefined) return true;
  if (e.type.startsWith('user.')) return (e.payload as DirectoryPayload).id === scope.principal.userId;
  const aors = scope.aors;
  return eventParties(e).some((p) => aors.has(p));
}

/** The `types` filter of the query; throws a 400 refusal for an entry that is not a filter. */
function parseTypes(value: string | null): string[] | undefined {
  if (value === null || value.trim() === '') return undefined;
  const types = value.split(',').map((t) => t.trim());
  if (types.length > 32 || !types.every((t) => EVENT_FILTER.test(t)))
    throw new UpgradeRefusal(400, 'VALIDATION', 'types must list up to 32 filters such as call.* or cdr.created');
  return types;
}

/** Answers an upgrade request with an HTTP error (JSON body) and closes the socket once written. */
export function rejectUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: { code, message } });
  socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      (status === 401 ? 'WWW-Authenticate: Bearer\r\n' : '') +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** The directory look-ups of {@link EventStreamOptions}, over the directory services. */
export function eventStreamDirectory(
  services: Pick<DirectoryServices, 'users' | 'domains'>,
): Pick<EventStreamOptions, 'aorsOf' | 'findDomain'> {
  return {
    aorsOf: async (p) => {
      if (p.userId === undefined) return [];
      const u = await services.users.get(p, p.userId);
      return [`${u.ext}@${u.domain}`];
    },
    // Only a superadmin's ?domain= gets here, so the look-up acts as the system.
    findDomain: async (domain) => {
      try {
        return { id: await services.domains.idOf(CLI_PRINCIPAL, domain), domain };
      } catch {
        return undefined;
      }
    },
  };
}
