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
import { UdpIoThread } from './udp-io-thread.js';
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
  /**
   * Serve the socket from a thread of its own (udp-io-thread.ts): the system calls and dgram's
   * per-datagram work leave the SIP thread. Worth it on a host with a core to spare. Default false.
   */
  readonly ioThread?: boolean | undefined;
  /**
   * With ioThread: the native I/O thread (native/udp-io.c, batches of datagrams per system call) when
   * it is built and the host is an IP address; false: always the dgram worker. Default true.
   */
  readonly ioNative?: boolean | undefined;
}

/** The largest UDP payload: 65535 less the IP and UDP headers (IPv4 20 + 8; IPv6 has no IP header in its payload length). */
const MAX_UDP_PAYLOAD = { udp4: 65507, udp6: 65527 } as const;

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
  /** The last send target found to be an IP address: most sends go to the peer that just sent, so the check is skipped for it. */
  private lastIpTarget = '';

  /** Set when an I/O thread serves the socket (then `socket` is unused). */
  private io: UdpIoThread | undefined;

  private constructor(
    private readonly socket: Socket | undefined,
    options: UdpListenOptions,
  ) {
    this.delegate = options.delegate;
    this.logger = options.logger ?? SILENT_LOGGER;
    this.limits = resolveLimits(options.limits);
    this.trace = options.trace;
    this.ipv6Socket = isIPv6(options.host);
    if (socket === undefined) return;
    socket.on('message', (data: Buffer, rinfo: RemoteInfo) => this.receive(data, rinfo.address, rinfo.port));
    socket.on('error', (err) => this.logger.warn({ err }, 'SIP UDP socket error'));
  }

  /** Binds `host:port` (port 0 picks one); resolves once bound. */
  static listen(options: UdpListenOptions): Promise<UdpTransport> {
    if (options.ioThread === true) return UdpTransport.listenOnIoThread(options);
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

  private static async listenOnIoThread(options: UdpListenOptions): Promise<UdpTransport> {
    const transport = new UdpTransport(undefined, options);
    try {
      transport.io = await UdpIoThread.start({
        type: isIPv6(options.host) ? 'udp6' : 'udp4',
        host: options.host,
        port: options.port,
        socketBufferSize: options.socketBufferSize ?? 4 * 1024 * 1024,
        native: options.ioNative !== false && isIP(options.host) !== 0,
        onDatagram: (data, address, port) => transport.receive(data, address, port),
        onSocketError: (err) => transport.logger.warn({ err }, 'SIP UDP socket error'),
        onFailure: (err) => transport.logger.warn({ err }, 'SIP UDP I/O thread failed: UDP is down'),
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new TransportError(`cannot listen on udp ${formatHostPort(options.host, options.port)}: ${message}`, {
        cause: err,
      });
    }
    transport.setLocal(transport.io.address, transport.io.port);
    return transport;
  }

  /** What serves the socket: this thread ('inline'), a native I/O thread or a dgram worker. */
  get ioKind(): 'inline' | 'native' | 'worker' {
    return this.io?.kind ?? 'inline';
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
    if (this.io !== undefined) return this.sendOnIoThread(data, to, port, flow);
    const socket = this.socket as Socket;
    return new Promise((resolve, reject) => {
      socket.send(data, port, to, (err) => {
        if (err) reject(new TransportError(`cannot send over udp to ${flow.id}: ${err.message}`, { cause: err }));
        else resolve(flow);
      });
    });
  }

  /**
   * Queued for the I/O thread, the datagram counts as sent, as a datagram handed to the kernel
   * does: what the kernel refuses later (rare for UDP) is logged by the socket error handler.
   * What can be known here is refused here: a datagram too large for UDP, a full queue.
   */
  private async sendOnIoThread(data: Buffer, to: string, port: number, flow: Flow): Promise<Flow> {
    const io = this.io as UdpIoThread;
    if (data.length > MAX_UDP_PAYLOAD[this.ipv6Socket ? 'udp6' : 'udp4'])
      throw new TransportError(`cannot send over udp to ${flow.id}: ${data.length} bytes do not fit a datagram`);
    // Names (rare: targets are addresses) are resolved here, so the I/O thread only sees addresses.
    let address = to;
    if (to !== this.lastIpTarget) {
      if (isIP(to) === 0) address = await this.resolve(to);
      else this.lastIpTarget = to;
    }
    if (!io.send(data, address, port))
      throw new TransportError(`cannot send over udp to ${flow.id}: the send queue is full or the socket closed`);
    return flow;
  }

  private resolve(name: string): Promise<string> {
    return new Promise((resolve, reject) => {
      dnsLookup(name, { family: this.ipv6Socket ? 6 : 4 }, (err, address) => {
        if (err) reject(new TransportError(`cannot resolve ${name}: ${err.message}`, { cause: err }));
        else resolve(address);
      });
    });
  }

  /**
   * Datagrams lost because a queue between the I/O thread and this one was full (running totals;
   * always 0 without an I/O thread, where the kernel's socket buffer is the only queue).
   */
  get queueDrops(): { received: number; sent: number } {
    return this.io?.dropped ?? { received: 0, sent: 0 };
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
    if (this.io !== undefined) {
      this.closing ??= this.io.close();
      return this.closing;
    }
    const socket = this.socket as Socket;
    this.closing ??= new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
    return this.closing;
  }

  private setLocal(address: string, port: number): void {
    this.localEndpoint = { address: unmapIpv4(address), port };
    this.idPrefix = `udp:${formatHostPort(this.localEndpoint.address, this.localEndpoint.port)}>`;
  }

  private bound(bufferSize: number): void {
    const socket = this.socket as Socket;
    const address = socket.address();
    this.setLocal(address.address, address.port);
    try {
      socket.setRecvBufferSize(bufferSize);
      socket.setSendBufferSize(bufferSize);
    } catch (err) {
      this.logger.debug({ err }, 'SIP UDP socket buffer size not applied');
    }
  }

  private receive(data: Buffer, remoteAddress: string, remotePort: number): void {
    if (data.length > this.limits.maxMessageSize) {
      this.logger.debug({ remote: remoteAddress, size: data.length }, 'SIP UDP datagram dropped: too large');
      return;
    }
    // CRLF keep-alives (sent by many phones over UDP too) carry no message.
    if (data.length <= 4 && isCrlfOnly(data)) return;
    const flow = this.flowTo(unmapIpv4(remoteAddress), remotePort);
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
