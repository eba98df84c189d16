import { randomBytes } from 'node:crypto';
import type { AddressInfo, Server, Socket } from 'node:net';
import {
  TransportError,
  type Endpoint,
  type Flow,
  type SendTarget,
  type Transport,
  type TransportDelegate,
} from '@handset/sip';
import { ConnectionLimiter } from './connection-limiter.js';
import { formatHostPort, unmapIpv4 } from './ip-address.js';
import { StreamConnection, type StreamConnectionContext } from './stream-connection.js';
import {
  resolveLimits,
  SILENT_LOGGER,
  type TransportLimits,
  type TransportLogger,
  type TransportOptions,
  type TransportTrace,
} from './transport-options.js';

/**
 * What TCP and TLS share: a listening server, one StreamConnection (flow) per
 * connection, inbound or outbound, per-IP admission, and outbound connections
 * opened on demand and reused per destination (RFC 3261 §18.1.1).
 */
export abstract class StreamTransport implements Transport, StreamConnectionContext {
  readonly delegate: TransportDelegate;
  readonly logger: TransportLogger;
  readonly limits: TransportLimits;
  readonly trace: TransportTrace | undefined;
  private readonly connections = new Map<string, StreamConnection>();
  private readonly byRemote = new Map<string, StreamConnection>();
  private readonly connecting = new Map<string, Promise<StreamConnection>>();
  private readonly limiter: ConnectionLimiter;
  /** Random per transport, so flow ids of two transports of one protocol (IPv4 and IPv6) never collide. */
  private readonly idPrefix: string;
  private nextId = 1;
  private localEndpoint: Endpoint = { address: '', port: 0 };
  private closing: Promise<void> | undefined;

  /** Opens a socket to a destination; it must emit `connectEvent` once usable. */
  protected abstract openSocket(address: string, port: number): Socket;
  /** The event after which an outbound socket can carry SIP ('connect' or 'secureConnect'). */
  protected abstract readonly connectEvent: 'connect' | 'secureConnect';

  protected constructor(
    readonly protocol: 'tcp' | 'tls',
    protected readonly server: Server,
    options: TransportOptions,
    /** True when a raw accepted socket is the flow (TCP); false when a handshake comes first (TLS). */
    adoptOnConnection: boolean,
  ) {
    this.delegate = options.delegate;
    this.logger = options.logger ?? SILENT_LOGGER;
    this.limits = resolveLimits(options.limits);
    this.trace = options.trace;
    this.limiter = new ConnectionLimiter(this.limits.maxConnectionsPerIp);
    this.idPrefix = `${protocol}:${randomBytes(3).toString('hex')}-`;
    server.on('connection', (raw: Socket) => this.admit(raw, adoptOnConnection));
    server.on('error', (err) => this.logger.warn({ err, protocol }, 'SIP server socket error'));
  }

  /** The listening address (port resolved after bind). */
  get local(): Endpoint {
    return this.localEndpoint;
  }

  /** Open flows (connections), inbound and outbound. */
  get flowCount(): number {
    return this.connections.size;
  }

  async send(data: Buffer, target: SendTarget): Promise<Flow> {
    if (target.flowId !== undefined) {
      const connection = this.connections.get(target.flowId);
      if (connection?.isOpen === true) {
        connection.write(data);
        return connection.flow;
      }
    }
    if (this.closing !== undefined) throw new TransportError(`${this.protocol} transport is closed`);
    const key = formatHostPort(target.address, target.port);
    let connection = this.byRemote.get(key);
    if (connection === undefined || !connection.isOpen)
      connection = await this.connect(target.address, target.port, key);
    connection.write(data);
    return connection.flow;
  }

  setFlowRegistered(flowId: string, registered: boolean): void {
    this.connections.get(flowId)?.setRegistered(registered);
  }

  getFlow(flowId: string): Flow | undefined {
    return this.connections.get(flowId)?.flow;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const connection of this.connections.values()) connection.close();
    });
    return this.closing;
  }

  /** @internal StreamConnectionContext: forgets the flow and tells the delegate. */
  connectionClosed(connection: StreamConnection): void {
    const { flow } = connection;
    this.connections.delete(flow.id);
    const key = formatHostPort(flow.remote.address, flow.remote.port);
    if (this.byRemote.get(key) === connection) this.byRemote.delete(key);
    try {
      this.delegate.onFlowClosed?.(flow);
    } catch (err) {
      this.logger.warn({ flow: flow.id, err }, 'SIP flow-closed handler threw');
    }
  }

  /** Binds the server; rejects with TransportError when the address is unusable. */
  protected bind(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void =>
        reject(
          new TransportError(`cannot listen on ${this.protocol} ${formatHostPort(host, port)}: ${err.message}`, {
            cause: err,
          }),
        );
      this.server.once('error', onError);
      this.server.listen({ host, port }, () => {
        this.server.off('error', onError);
        const address = this.server.address() as AddressInfo;
        this.localEndpoint = { address: unmapIpv4(address.address), port: address.port };
        resolve();
      });
    });
  }

  /** Wraps an accepted (and, for TLS, handshaken) socket as a flow. */
  protected adoptInbound(socket: Socket): void {
    if (socket.destroyed) return;
    this.adopt(socket);
  }

  /** Admits an accepted socket against the per-IP cap; excess connections are closed at once. */
  private admit(raw: Socket, adopt: boolean): void {
    raw.on('error', (err) => this.logger.debug({ err, protocol: this.protocol }, 'SIP connection error'));
    const ip = unmapIpv4(raw.remoteAddress);
    if (this.closing !== undefined || ip === '') {
      raw.destroy();
      return;
    }
    if (!this.limiter.acquire(ip)) {
      this.logger.debug({ ip, protocol: this.protocol }, 'SIP connection refused: too many from this address');
      raw.destroy();
      return;
    }
    raw.once('close', () => this.limiter.release(ip));
    if (adopt) this.adoptInbound(raw);
  }

  private adopt(socket: Socket): StreamConnection {
    const flow: Flow = {
      id: this.idPrefix + String(this.nextId++),
      protocol: this.protocol,
      local: { address: unmapIpv4(socket.localAddress), port: socket.localPort ?? 0 },
      remote: { address: unmapIpv4(socket.remoteAddress), port: socket.remotePort ?? 0 },
      reliable: true,
    };
    const connection = new StreamConnection(socket, flow, this);
    this.connections.set(flow.id, connection);
    this.byRemote.set(formatHostPort(flow.remote.address, flow.remote.port), connection);
    return connection;
  }

  /** Opens (or joins an attempt already under way to) a connection to `address:port`. */
  private connect(address: string, port: number, key: string): Promise<StreamConnection> {
    const pending = this.connecting.get(key);
    if (pending !== undefined) return pending;
    const attempt = new Promise<StreamConnection>((resolve, reject) => {
      const fail = (err: Error): void => {
        socket?.destroy();
        reject(new TransportError(`cannot connect over ${this.protocol} to ${key}: ${err.message}`, { cause: err }));
      };
      let socket: Socket | undefined;
      try {
        socket = this.openSocket(address, port);
      } catch (err) {
        fail(err as Error);
        return;
      }
      const opened = socket;
      const onTimeout = (): void => fail(new Error('timed out'));
      opened.setTimeout(this.limits.connectTimeoutMs);
      opened.once('timeout', onTimeout);
      opened.once('error', fail);
      opened.once(this.connectEvent, () => {
        opened.off('timeout', onTimeout);
        opened.off('error', fail);
        if (this.closing !== undefined) {
          fail(new Error('transport closed'));
          return;
        }
        resolve(this.adopt(opened));
      });
    }).finally(() => this.connecting.delete(key));
    this.connecting.set(key, attempt);
    return attempt;
  }
}
