import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import {
  TransportError,
  type Endpoint,
  type Flow,
  type SendTarget,
  type Transport,
  type TransportDelegate,
} from '@handset/sip';
import { formatHostPort, parseHostPort, unmapIpv4 } from './ip-address.js';
import { isCrlfOnly } from './keep-alive.js';
import {
  resolveLimits,
  SILENT_LOGGER,
  type ListenOptions,
  type TransportLimits,
  type TransportLogger,
  type TransportTrace,
} from './transport-options.js';

/** Options of a UDP transport. */
export interface UdpListenOptions extends ListenOptions {
  /** Kernel receive/send buffer size asked for (capped by the OS). Default 4 MiB: absorbs bursts under load. */
  readonly socketBufferSize?: number | undefined;
}

/**
 * The socket's address lookup: IP literals (every send target and flow address) answer at once,
 * saving dgram the deferred dns.lookup round per datagram; names still go to dns.lookup.
 */
function literalFirstLookup(
  address: string,
  family: LookupOneOptions | number,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const kind = isIP(address);
  if (kind !== 0) callback(null, address, kind);
  // dgram passes the socket's family as a number (4 or 6).
  else dnsLookup(address, typeof family === 'number' ? { family } : family, callback);
}

/**
 * SIP over UDP (RFC 3261 §18). A flow is the (local, remote) address pair
 * (RFC 5626 §3.3), so flows are never "closed" and carry no timers; the flow id
 * encodes both ends: `udp:127.0.0.1:5060>127.0.0.1:40000` (IPv6 in brackets).
 */
export class UdpTransport implements Transport {
  readonly protocol = 'udp';
  private readonly delegate: TransportDelegate;
  private readonly logger: TransportLogger;
  private readonly limits: TransportLimits;
  private readonly trace: TransportTrace | undefined;
  private readonly ipv6Socket: boolean;
  private localEndpoint: Endpoint = { address: '', port: 0 };
  /** `udp:<local>>`, the part of every flow id that names this socket. */
  private idPrefix = '';
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly socket: Socket,
    options: UdpListenOptions,
  ) {
    this.delegate = options.delegate;
    this.logger = options.logger ?? SILENT_LOGGER;
    this.limits = resolveLimits(options.limits);
    this.trace = options.trace;
    this.ipv6Socket = isIPv6(options.host);
    socket.on('message', (data: Buffer, rinfo: RemoteInfo) => this.receive(data, rinfo));
    socket.on('error', (err) => this.logger.warn({ err }, 'SIP UDP socket error'));
  }

  /** Binds `host:port` (port 0 picks one); resolves once bound. */
  static listen(options: UdpListenOptions): Promise<UdpTransport> {
    const socket = createSocket({ type: isIPv6(options.host) ? 'udp6' : 'udp4', lookup: literalFirstLookup });
    const transport = new UdpTransport(socket, options);
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.close();
        reject(
          new TransportError(`cannot listen on udp ${formatHostPort(options.host, options.port)}: ${err.message}`, {
            cause: err,
          }),
        );
      };
      socket.once('error', onError);
      socket.bind({ address: options.host, port: options.port, exclusive: true }, () => {
        socket.off('error', onError);
        transport.bound(options.socketBufferSize ?? 4 * 1024 * 1024);
        resolve(transport);
      });
    });
  }

  /** The bound address (port resolved after bind). */
  get local(): Endpoint {
    return this.localEndpoint;
  }

  send(data: Buffer, target: SendTarget): Promise<Flow> {
    if (this.closing !== undefined) return Promise.reject(new TransportError('udp transport is closed'));
    let address = target.address;
    let port = target.port;
    let id = this.idPrefix + formatHostPort(address, port);
    const flowId = target.flowId;
    // A flow of this socket names the peer; it is nearly always the target itself (no parsing then).
    if (flowId !== undefined && flowId !== id && flowId.startsWith(this.idPrefix)) {
      const remote = parseHostPort(flowId.slice(this.idPrefix.length));
      if (remote !== undefined) {
        address = remote.address;
        port = remote.port;
        id = flowId;
      }
    }
    const flow: Flow = { id, protocol: 'udp', local: this.localEndpoint, remote: { address, port }, reliable: false };
    // An IPv6 (possibly dual-stack) socket reaches IPv4 peers through IPv4-mapped addresses.
    const to = this.ipv6Socket && isIPv4(address) ? `::ffff:${address}` : address;
    if (this.trace !== undefined) this.traceSafely('out', data, flow);
    return new Promise((resolve, reject) => {
      this.socket.send(data, port, to, (err) => {
        if (err) reject(new TransportError(`cannot send over udp to ${flow.id}: ${err.message}`, { cause: err }));
        else resolve(flow);
      });
    });
  }

  /** UDP flows have no connection to keep or time out: nothing to do. */
  setFlowRegistered(): void {}

  /** Any well-formed flow id of this socket names a usable flow. */
  getFlow(flowId: string): Flow | undefined {
    if (!flowId.startsWith(this.idPrefix)) return undefined;
    const remote = parseHostPort(flowId.slice(this.idPrefix.length));
    return remote === undefined ? undefined : this.flowTo(remote.address, remote.port);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
    return this.closing;
  }

  private bound(bufferSize: number): void {
    const address = this.socket.address();
    this.localEndpoint = { address: unmapIpv4(address.address), port: address.port };
    this.idPrefix = `udp:${formatHostPort(this.localEndpoint.address, this.localEndpoint.port)}>`;
    try {
      this.socket.setRecvBufferSize(bufferSize);
      this.socket.setSendBufferSize(bufferSize);
    } catch (err) {
      this.logger.debug({ err }, 'SIP UDP socket buffer size not applied');
    }
  }

  private receive(data: Buffer, rinfo: RemoteInfo): void {
    if (data.length > this.limits.maxMessageSize) {
      this.logger.debug({ remote: rinfo.address, size: data.length }, 'SIP UDP datagram dropped: too large');
      return;
    }
    // CRLF keep-alives (sent by many phones over UDP too) carry no message.
    if (data.length <= 4 && isCrlfOnly(data)) return;
    const flow = this.flowTo(unmapIpv4(rinfo.address), rinfo.port);
    if (this.trace !== undefined) this.traceSafely('in', data, flow);
    try {
      this.delegate.onMessage(data, flow);
    } catch (err) {
      this.logger.warn({ flow: flow.id, err }, 'SIP message handler threw');
    }
  }

  private flowTo(address: string, port: number): Flow {
    return {
      id: this.idPrefix + formatHostPort(address, port),
      protocol: 'udp',
      local: this.localEndpoint,
      remote: { address, port },
      reliable: false,
    };
  }

  private traceSafely(direction: 'in' | 'out', data: Buffer, flow: Flow): void {
    try {
      this.trace?.(direction, data, flow);
    } catch (err) {
      this.logger.warn({ err }, 'SIP trace hook threw');
    }
  }
}
