import { randomBytes } from 'node:crypto';
import {
  createServer as createHttpServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server as HttpServer,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { Server as TlsServer } from 'node:tls';
import {
  TransportError,
  type Endpoint,
  type Flow,
  type SendTarget,
  type Transport,
  type TransportDelegate,
} from '@handset/sip';
import { WebSocketServer, type WebSocket } from 'ws';
import { ConnectionLimiter } from './connection-limiter.js';
import { formatHostPort, unmapIpv4 } from './ip-address.js';
import {
  resolveLimits,
  SILENT_LOGGER,
  type ListenOptions,
  type TransportLimits,
  type TransportLogger,
  type TransportOptions,
  type TransportTrace,
} from './transport-options.js';
import { WsConnection, type WsConnectionContext } from './ws-connection.js';

/** The WebSocket subprotocol for SIP (RFC 7118 §4.1). */
export const SIP_WEBSOCKET_PROTOCOL = 'sip';

/** Options for attaching to an HTTP(S) server the caller owns. */
export interface WsAttachOptions extends TransportOptions {
  /** The server whose 'upgrade' requests at `path` become SIP WebSockets. */
  readonly server: HttpServer | HttpsServer;
  /** URL path (query ignored). Default '/sip'. */
  readonly path?: string | undefined;
  /** Via transport; default 'wss' for an HTTPS server, else 'ws'. */
  readonly protocol?: 'ws' | 'wss' | undefined;
}

/** Options for a WebSocket transport with its own HTTP(S) server. */
export interface WsListenOptions extends ListenOptions {
  /** URL path. Default '/sip'. */
  readonly path?: string | undefined;
  /** With `cert` and `key`: WSS over HTTPS; without: WS over HTTP. */
  readonly cert?: string | Buffer | undefined;
  readonly key?: string | Buffer | undefined;
}

/**
 * SIP over WebSocket (RFC 7118), on `ws` in noServer mode: it takes upgrade
 * requests at one path of an existing HTTP(S) server. A flow is one WebSocket;
 * the server cannot open WebSockets, so sending needs an open flow.
 */
export class WsTransport implements Transport, WsConnectionContext {
  readonly protocol: 'ws' | 'wss';
  readonly delegate: TransportDelegate;
  readonly logger: TransportLogger;
  readonly limits: TransportLimits;
  readonly trace: TransportTrace | undefined;
  private readonly server: HttpServer | HttpsServer;
  private readonly path: string;
  private readonly wss: WebSocketServer;
  private readonly connections = new Map<string, WsConnection>();
  private readonly limiter: ConnectionLimiter;
  private readonly idPrefix: string;
  private nextId = 1;
  private ownsServer = false;
  private localEndpoint: Endpoint | undefined;
  private closing: Promise<void> | undefined;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    try {
      this.upgrade(req, socket as Socket, head);
    } catch (err) {
      this.logger.warn({ err }, 'SIP WebSocket upgrade failed');
      socket.destroy();
    }
  };

  private constructor(options: WsAttachOptions) {
    this.server = options.server;
    this.protocol = options.protocol ?? (options.server instanceof TlsServer ? 'wss' : 'ws');
    this.path = options.path ?? '/sip';
    this.delegate = options.delegate;
    this.logger = options.logger ?? SILENT_LOGGER;
    this.limits = resolveLimits(options.limits);
    this.trace = options.trace;
    this.limiter = new ConnectionLimiter(this.limits.maxConnectionsPerIp);
    this.idPrefix = `${this.protocol}:${randomBytes(3).toString('hex')}-`;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: this.limits.maxMessageSize,
      // Only requests offering 'sip' get this far (see upgrade), so the answer is always 'sip'.
      handleProtocols: () => SIP_WEBSOCKET_PROTOCOL,
    });
    this.server.on('upgrade', this.onUpgrade);
  }

  /** Takes SIP WebSockets from `server` at `path`; the server may listen before or after. */
  static attach(options: WsAttachOptions): WsTransport {
    return new WsTransport(options);
  }

  /** Starts an HTTP (or HTTPS, with cert and key) server of its own on `host:port`; resolves once bound. */
  static listen(options: WsListenOptions): Promise<WsTransport> {
    const secure = options.cert !== undefined && options.key !== undefined;
    const server: HttpServer | HttpsServer = secure
      ? createHttpsServer({ cert: options.cert, key: options.key })
      : createHttpServer();
    server.on('request', (_req, res) => {
      res.writeHead(426, { Upgrade: 'websocket', Connection: 'close' }).end();
    });
    server.on('clientError', (_err, socket: Duplex) => socket.destroy());
    const transport = new WsTransport({ ...options, server });
    transport.ownsServer = true;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        server.off('upgrade', transport.onUpgrade);
        reject(
          new TransportError(
            `cannot listen on ${transport.protocol} ${formatHostPort(options.host, options.port)}: ${err.message}`,
            { cause: err },
          ),
        );
      };
      server.once('error', onError);
      server.listen({ host: options.host, port: options.port }, () => {
        server.off('error', onError);
        server.on('error', (err) => transport.logger.warn({ err }, 'SIP WebSocket server error'));
        resolve(transport);
      });
    });
  }

  /** The HTTP(S) server's listening address ({address: '', port: 0} until it listens). */
  get local(): Endpoint {
    if (this.localEndpoint !== undefined) return this.localEndpoint;
    const address = this.server.address();
    if (address === null || typeof address === 'string') return { address: '', port: 0 };
    this.localEndpoint = { address: unmapIpv4(address.address), port: address.port };
    return this.localEndpoint;
  }

  /** Open flows (WebSockets). */
  get flowCount(): number {
    return this.connections.size;
  }

  /** Sends over `target.flowId`; RFC 7118 §5: the server cannot connect to a WebSocket client, so no flow means TransportError. */
  send(data: Buffer, target: SendTarget): Promise<Flow> {
    const connection = target.flowId === undefined ? undefined : this.connections.get(target.flowId);
    if (connection === undefined || !connection.isOpen) {
      return Promise.reject(
        new TransportError(`no open ${this.protocol} flow to ${formatHostPort(target.address, target.port)}`),
      );
    }
    try {
      connection.write(data);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new TransportError(String(err)));
    }
    return Promise.resolve(connection.flow);
  }

  setFlowRegistered(flowId: string, registered: boolean): void {
    this.connections.get(flowId)?.setRegistered(registered);
  }

  getFlow(flowId: string): Flow | undefined {
    return this.connections.get(flowId)?.flow;
  }

  /** Stops taking upgrades, closes every WebSocket, and closes the server if this transport created it. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.off('upgrade', this.onUpgrade);
      // Report every flow closed now, not when each socket's close handshake ends: the owner
      // persists state right after close() resolves (registrations over these flows must go).
      for (const connection of [...this.connections.values()]) {
        connection.close();
        this.connectionClosed(connection);
      }
      this.wss.close();
      if (!this.ownsServer) {
        resolve();
        return;
      }
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  /** @internal WsConnectionContext: forgets the flow and tells the delegate. */
  connectionClosed(connection: WsConnection): void {
    if (!this.connections.delete(connection.flow.id)) return; // reported once only
    try {
      this.delegate.onFlowClosed?.(connection.flow);
    } catch (err) {
      this.logger.warn({ flow: connection.flow.id, err }, 'SIP flow-closed handler threw');
    }
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    if ((query < 0 ? url : url.slice(0, query)) !== this.path) {
      // Another 'upgrade' listener may own this path; answer only when nobody else can.
      if (this.server.listenerCount('upgrade') <= 1) rejectUpgrade(socket, 404);
      return;
    }
    socket.on('error', (err) => this.logger.debug({ err }, 'SIP WebSocket socket error'));
    if (this.closing !== undefined) {
      rejectUpgrade(socket, 503);
      return;
    }
    // RFC 7118 §4.1: a SIP WebSocket is negotiated with the 'sip' subprotocol; without it, refuse.
    if (!offersSipProtocol(req.headers['sec-websocket-protocol'])) {
      this.logger.debug({ remote: socket.remoteAddress }, 'SIP WebSocket refused: no "sip" subprotocol');
      rejectUpgrade(socket, 400, 'WebSocket subprotocol "sip" required');
      return;
    }
    const ip = unmapIpv4(socket.remoteAddress);
    if (ip === '' || !this.limiter.acquire(ip)) {
      this.logger.debug({ ip }, 'SIP WebSocket refused: too many connections from this address');
      rejectUpgrade(socket, 503);
      return;
    }
    socket.once('close', () => this.limiter.release(ip));
    this.wss.handleUpgrade(req, socket, head, (ws) => this.adopt(ws, socket));
  }

  private adopt(ws: WebSocket, socket: Socket): void {
    const flow: Flow = {
      id: this.idPrefix + String(this.nextId++),
      protocol: this.protocol,
      local: { address: unmapIpv4(socket.localAddress), port: socket.localPort ?? 0 },
      remote: { address: unmapIpv4(socket.remoteAddress), port: socket.remotePort ?? 0 },
      reliable: true,
    };
    const connection = new WsConnection(ws, socket, flow, this);
    this.connections.set(flow.id, connection);
    if (this.closing !== undefined) connection.close();
  }
}

/** True when a Sec-WebSocket-Protocol header lists 'sip'. */
function offersSipProtocol(header: string | undefined): boolean {
  if (header === undefined) return false;
  for (const token of header.split(',')) if (token.trim() === SIP_WEBSOCKET_PROTOCOL) return true;
  return false;
}

/** Answers an upgrade request with an HTTP error and closes the socket once it is written. */
function rejectUpgrade(socket: Duplex, status: number, body = STATUS_CODES[status] ?? ''): void {
  socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
