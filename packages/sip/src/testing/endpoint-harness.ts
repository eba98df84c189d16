/**
 * Test wiring: a SipEndpoint on a memory transport (127.0.0.1:5060), a scripted SipPeer
 * on another (127.0.0.2:5060), a TU that records what it is given, and builders for
 * request text. Used by the transaction and endpoint tests.
 */
import type { EndpointUser } from '../endpoint/endpoint-user.js';
import { SipEndpoint } from '../endpoint/sip-endpoint.js';
import type { SipEndpointOptions } from '../endpoint/sip-endpoint-options.js';
import type { SipRequest, SipResponse } from '../message.js';
import { parseMessage } from '../parser.js';
import type { ServerTransaction } from '../transaction/server-transaction.js';
import type { Flow, SendTarget, TransportProtocol } from '../transport.js';
import { MemoryNetwork, type MemoryNetworkOptions, type MemoryTransport } from './memory-transport.js';
import { SipPeer } from './sip-peer.js';

/** A TU that records everything and lets a test answer requests. */
export class RecordingUser implements EndpointUser {
  readonly transactions: ServerTransaction[] = [];
  readonly acks: Array<{ ack: SipRequest; flow: Flow }> = [];
  readonly strays: Array<{ response: SipResponse; flow: Flow }> = [];
  readonly closedFlows: Flow[] = [];
  /** Runs for each new server transaction (e.g. to answer at once). */
  answer: ((transaction: ServerTransaction) => void) | undefined;

  onRequest(transaction: ServerTransaction): void {
    this.transactions.push(transaction);
    this.answer?.(transaction);
  }
  onAck(ack: SipRequest, flow: Flow): void {
    this.acks.push({ ack, flow });
  }
  onStrayResponse(response: SipResponse, flow: Flow): void {
    this.strays.push({ response, flow });
  }
  onFlowClosed(flow: Flow): void {
    this.closedFlows.push(flow);
  }
}

/** What createEndpointHarness returns. */
export interface EndpointHarness {
  readonly network: MemoryNetwork;
  readonly endpoint: SipEndpoint;
  readonly endpointTransport: MemoryTransport;
  readonly peer: SipPeer;
  readonly peerTransport: MemoryTransport;
  readonly user: RecordingUser;
  /** How the peer reaches the endpoint. */
  readonly toEndpoint: SendTarget;
  /** How the endpoint reaches the peer. */
  readonly toPeer: SendTarget;
}

/** Options for createEndpointHarness. */
export interface EndpointHarnessOptions extends MemoryNetworkOptions, Omit<SipEndpointOptions, 'user'> {
  protocol?: TransportProtocol | undefined;
}

/** Wires an endpoint and a peer over one memory network. */
export function createEndpointHarness(options: EndpointHarnessOptions = {}): EndpointHarness {
  const protocol = options.protocol ?? 'udp';
  const network = new MemoryNetwork(options);
  const user = new RecordingUser();
  const endpoint = new SipEndpoint({ ...options, user });
  const endpointTransport = network.createTransport({ protocol, address: '127.0.0.1', port: 5060, delegate: endpoint });
  endpoint.addTransport(endpointTransport);
  const peer = new SipPeer();
  const peerTransport = network.createTransport({ protocol, address: '127.0.0.2', port: 5060, delegate: peer });
  peer.use(peerTransport);
  return {
    network,
    endpoint,
    endpointTransport,
    peer,
    peerTransport,
    user,
    toEndpoint: { protocol, address: '127.0.0.1', port: 5060 },
    toPeer: { protocol, address: '127.0.0.2', port: 5060 },
  };
}

/** Fields of a test request; everything has a default. */
export interface RequestTextOptions {
  uri?: string;
  /** Via transport, default UDP. */
  transport?: string;
  /** Via sent-by, default 127.0.0.2:5060. */
  sentBy?: string;
  /** Branch; `null` for none (an RFC 2543 client). Default z9hG4bK-1. */
  branch?: string | null;
  /** Adds `;rport`. */
  rport?: boolean;
  cseq?: number;
  cseqMethod?: string;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  /** Extra header lines. */
  headers?: string[];
}

/** The text of a request (LF line ends; SipPeer.send turns them into CRLF). */
export function requestText(method: string, o: RequestTextOptions = {}): string {
  const branch = o.branch === undefined ? ';branch=z9hG4bK-1' : o.branch === null ? '' : `;branch=${o.branch}`;
  return [
    `${method} ${o.uri ?? 'sip:bob@127.0.0.1'} SIP/2.0`,
    `Via: SIP/2.0/${o.transport ?? 'UDP'} ${o.sentBy ?? '127.0.0.2:5060'}${branch}${o.rport === true ? ';rport' : ''}`,
    'Max-Forwards: 70',
    `From: <sip:alice@example.com>;tag=${o.fromTag ?? 'alice-1'}`,
    `To: <sip:bob@example.com>${o.toTag === undefined ? '' : `;tag=${o.toTag}`}`,
    `Call-ID: ${o.callId ?? 'call-1@test'}`,
    `CSeq: ${o.cseq ?? 1} ${o.cseqMethod ?? method}`,
    ...(o.headers ?? []),
    'Content-Length: 0',
    '',
    '',
  ].join('\n');
}

/** A parsed test request. */
export function testRequest(method: string, o: RequestTextOptions = {}): SipRequest {
  return parseMessage(Buffer.from(requestText(method, o).replace(/\n/g, '\r\n'))) as SipRequest;
}

/** Lets queued deliveries (microtasks) run; safe under fake timers. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
