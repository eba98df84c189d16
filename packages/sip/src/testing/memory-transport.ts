/**
 * In-memory transports for tests: a MemoryNetwork of MemoryTransports that deliver
 * to each other by address, over datagrams (UDP: unreliable, optional loss) or
 * connections (TCP/TLS/WS/WSS: reliable, flows that can be closed). Delivery is
 * asynchronous (a microtask), so it works under fake timers without advancing them.
 */
import {
  type Endpoint,
  type Flow,
  type SendTarget,
  type Transport,
  type TransportDelegate,
  TransportError,
  type TransportProtocol,
} from '../transport.js';

/** One message crossing the memory network. */
export interface MemoryPacket {
  readonly protocol: TransportProtocol;
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly data: Buffer;
}

/** Options for MemoryNetwork. */
export interface MemoryNetworkOptions {
  /** Probability (0..1) that a UDP datagram is lost. Default 0. */
  loss?: number | undefined;
  /** Random source for `loss` (default Math.random). */
  random?: (() => number) | undefined;
  /** Deterministic loss: return true to drop this UDP datagram. */
  drop?: ((packet: MemoryPacket) => boolean) | undefined;
  /** Sees every packet delivered (after loss). */
  observe?: ((packet: MemoryPacket) => void) | undefined;
}

/** Options for one MemoryTransport. */
export interface MemoryTransportOptions {
  /** Default 'udp'. */
  protocol?: TransportProtocol | undefined;
  /** Default '127.0.0.1'. */
  address?: string | undefined;
  /** Default: the next free port from 5060 up. */
  port?: number | undefined;
  /** Receives messages; can also be set later with `attach`. */
  delegate?: TransportDelegate | undefined;
  /** Refuse to open outbound connections (like a WS server, RFC 7118). Default false. */
  acceptOnly?: boolean | undefined;
}

interface FlowEnd {
  readonly flow: Flow;
  readonly peer: MemoryTransport;
  /** The id of the same flow on the peer's side. */
  readonly peerFlowId: string;
}

const key = (protocol: TransportProtocol, address: string, port: number): string => `${protocol}:${address}:${port}`;

/** A set of MemoryTransports that can reach each other by protocol, address and port. */
export class MemoryNetwork {
  private readonly bound = new Map<string, MemoryTransport>();
  private readonly options: MemoryNetworkOptions;
  private nextPort = 5060;
  private nextEphemeral = 40000;
  private nextConnection = 1;

  constructor(options: MemoryNetworkOptions = {}) {
    this.options = options;
  }

  /** Creates a transport bound on this network. Throws when the address is taken. */
  createTransport(options: MemoryTransportOptions = {}): MemoryTransport {
    const protocol = options.protocol ?? 'udp';
    const address = options.address ?? '127.0.0.1';
    let port = options.port;
    if (port === undefined) {
      while (this.bound.has(key(protocol, address, this.nextPort))) this.nextPort++;
      port = this.nextPort++;
    }
    const k = key(protocol, address, port);
    if (this.bound.has(k)) throw new TransportError(`${k} is already bound`);
    const transport = new MemoryTransport(this, protocol, { address, port }, options);
    this.bound.set(k, transport);
    return transport;
  }

  /** @internal */
  lookup(protocol: TransportProtocol, address: string, port: number): MemoryTransport | undefined {
    return this.bound.get(key(protocol, address, port));
  }

  /** @internal */
  unbind(transport: MemoryTransport): void {
    const k = key(transport.protocol, transport.local.address, transport.local.port);
    if (this.bound.get(k) === transport) this.bound.delete(k);
  }

  /** @internal */
  ephemeralPort(): number {
    return this.nextEphemeral++;
  }

  /** @internal */
  connectionId(): number {
    return this.nextConnection++;
  }

  /** @internal Applies loss to a datagram; true when it should be delivered. */
  survives(packet: MemoryPacket): boolean {
    if (packet.protocol !== 'udp') return true;
    if (this.options.drop?.(packet) === true) return false;
    const loss = this.options.loss ?? 0;
    return !(loss > 0 && (this.options.random ?? Math.random)() < loss);
  }

  /** @internal */
  observed(packet: MemoryPacket): void {
    this.options.observe?.(packet);
  }
}

/** A Transport over a MemoryNetwork. */
export class MemoryTransport implements Transport {
  readonly protocol: TransportProtocol;
  readonly local: Endpoint;
  /** True for every protocol but UDP. */
  readonly reliable: boolean;
  private delegate: TransportDelegate | undefined;
  private readonly network: MemoryNetwork;
  private readonly acceptOnly: boolean;
  private readonly flows = new Map<string, FlowEnd>();
  private readonly byRemote = new Map<string, string>();
  private readonly registered = new Set<string>();
  private closed = false;

  /** @internal Use MemoryNetwork.createTransport. */
  constructor(network: MemoryNetwork, protocol: TransportProtocol, local: Endpoint, options: MemoryTransportOptions) {
    this.network = network;
    this.protocol = protocol;
    this.local = local;
    this.reliable = protocol !== 'udp';
    this.delegate = options.delegate;
    this.acceptOnly = options.acceptOnly ?? false;
  }

  /** Sets who receives this transport's messages. */
  attach(delegate: TransportDelegate): this {
    this.delegate = delegate;
    return this;
  }

  async send(data: Buffer, target: SendTarget): Promise<Flow> {
    if (this.closed) throw new TransportError(`${this.protocol} memory transport is closed`);
    if (target.protocol !== this.protocol)
      throw new TransportError(`cannot send ${target.protocol} over a ${this.protocol} transport`);
    let end = target.flowId === undefined ? undefined : this.flows.get(target.flowId);
    if (end === undefined) end = this.reliable ? this.connect(target) : this.datagramFlow(target);
    if (end === undefined) return this.lostDatagramFlow(target);
    const packet: MemoryPacket = {
      protocol: this.protocol,
      from: end.flow.local,
      to: end.flow.remote,
      data: Buffer.from(data),
    };
    if (this.network.survives(packet)) {
      const { peer, peerFlowId } = end;
      void Promise.resolve().then(() => peer.deliver(packet, peerFlowId));
    }
    return end.flow;
  }

  setFlowRegistered(flowId: string, registered: boolean): void {
    if (registered) this.registered.add(flowId);
    else this.registered.delete(flowId);
  }

  /** True when setFlowRegistered marked the flow. */
  isFlowRegistered(flowId: string): boolean {
    return this.registered.has(flowId);
  }

  getFlow(flowId: string): Flow | undefined {
    return this.flows.get(flowId)?.flow;
  }

  /** Open flows (for UDP: remote addresses seen). */
  get flowCount(): number {
    return this.flows.size;
  }

  /** Closes a connection on both sides, telling both delegates (no-op for UDP or an unknown flow). */
  closeFlow(flowId: string): void {
    const end = this.flows.get(flowId);
    if (end === undefined || !this.reliable) return;
    this.dropFlow(flowId);
    end.peer.dropFlow(end.peerFlowId);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.network.unbind(this);
    for (const id of [...this.flows.keys()]) this.closeFlow(id);
    this.flows.clear();
    return Promise.resolve();
  }

  /** @internal A packet arrives on one of this transport's flows. */
  deliver(packet: MemoryPacket, flowId: string): void {
    if (this.closed) return;
    const end = this.flows.get(flowId);
    if (end === undefined) return;
    this.network.observed(packet);
    this.delegate?.onMessage(packet.data, end.flow);
  }

  /** @internal Forgets a flow and tells the delegate. */
  dropFlow(flowId: string): void {
    const end = this.flows.get(flowId);
    if (end === undefined) return;
    this.flows.delete(flowId);
    this.registered.delete(flowId);
    const remote = `${end.flow.remote.address}:${end.flow.remote.port}`;
    if (this.byRemote.get(remote) === flowId) this.byRemote.delete(remote);
    this.delegate?.onFlowClosed?.(end.flow);
  }

  /** @internal Adds one side of a flow. */
  addFlow(end: FlowEnd): void {
    this.flows.set(end.flow.id, end);
    this.byRemote.set(`${end.flow.remote.address}:${end.flow.remote.port}`, end.flow.id);
  }

  private connect(target: SendTarget): FlowEnd {
    const existing = this.byRemote.get(`${target.address}:${target.port}`);
    if (existing !== undefined) {
      const end = this.flows.get(existing);
      if (end !== undefined) return end;
    }
    if (this.acceptOnly)
      throw new TransportError(
        `${this.protocol} transport cannot open connections (no flow to ${target.address}:${target.port})`,
      );
    const peer = this.network.lookup(this.protocol, target.address, target.port);
    if (peer === undefined || peer.closed)
      throw new TransportError(`connection refused by ${target.address}:${target.port}`);
    const n = this.network.connectionId();
    const mine = { address: this.local.address, port: this.network.ephemeralPort() };
    const id = `${this.protocol}:${n}`;
    const ourFlow: Flow = { id, protocol: this.protocol, local: mine, remote: peer.local, reliable: true };
    const theirFlow: Flow = { id, protocol: this.protocol, local: peer.local, remote: mine, reliable: true };
    const end: FlowEnd = { flow: ourFlow, peer, peerFlowId: id };
    this.addFlow(end);
    peer.addFlow({ flow: theirFlow, peer: this, peerFlowId: id });
    return end;
  }

  private datagramFlow(target: SendTarget): FlowEnd | undefined {
    const peer = this.network.lookup('udp', target.address, target.port);
    if (peer === undefined || peer.closed) return undefined;
    const id = udpFlowId(this.local, peer.local);
    let end = this.flows.get(id);
    if (end === undefined) {
      end = {
        flow: { id, protocol: 'udp', local: this.local, remote: peer.local, reliable: false },
        peer,
        peerFlowId: udpFlowId(peer.local, this.local),
      };
      this.addFlow(end);
    }
    if (!peer.flows.has(end.peerFlowId)) {
      peer.addFlow({
        flow: { id: end.peerFlowId, protocol: 'udp', local: peer.local, remote: this.local, reliable: false },
        peer: this,
        peerFlowId: id,
      });
    }
    return end;
  }

  /** A datagram to nobody: sent, and lost. */
  private lostDatagramFlow(target: SendTarget): Flow {
    const remote = { address: target.address, port: target.port };
    return { id: udpFlowId(this.local, remote), protocol: 'udp', local: this.local, remote, reliable: false };
  }
}

function udpFlowId(local: Endpoint, remote: Endpoint): string {
  return `udp:${local.address}:${local.port}>${remote.address}:${remote.port}`;
}

/** Two transports of one protocol on a fresh network, 127.0.0.1:5060 and 127.0.0.2:5060. */
export function createMemoryTransportPair(
  options: MemoryNetworkOptions & { protocol?: TransportProtocol | undefined } = {},
): [MemoryTransport, MemoryTransport, MemoryNetwork] {
  const network = new MemoryNetwork(options);
  const a = network.createTransport({ protocol: options.protocol, address: '127.0.0.1', port: 5060 });
  const b = network.createTransport({ protocol: options.protocol, address: '127.0.0.2', port: 5060 });
  return [a, b, network];
}
