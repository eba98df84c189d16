/**
 * A scripted SIP peer for tests: records every message its transport receives (parsed,
 * with the time and flow) and sends raw text or messages. No transaction layer: tests
 * see exactly what went over the wire, retransmissions included.
 */
import type { SipMessage, SipRequest, SipResponse } from '../message.js';
import { parseMessage } from '../parser.js';
import { serializeMessage } from '../serializer.js';
import type { Flow, SendTarget, Transport, TransportDelegate } from '../transport.js';

/** One message the peer received. */
export interface PeerReceived {
  readonly message: SipMessage;
  readonly data: Buffer;
  readonly flow: Flow;
  /** `clock()` at arrival. */
  readonly at: number;
}

/** Records what arrives on a transport and sends what a test scripts. */
export class SipPeer implements TransportDelegate {
  readonly received: PeerReceived[] = [];
  /** Bytes that did not parse. */
  readonly garbage: Buffer[] = [];
  readonly closedFlows: Flow[] = [];
  private transport: Transport | undefined;
  private readonly clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.clock = clock;
  }

  /** The transport this peer sends through (its delegate must be this peer). */
  use(transport: Transport): this {
    this.transport = transport;
    return this;
  }

  onMessage(data: Buffer, flow: Flow): void {
    try {
      this.received.push({
        message: parseMessage(data, { stream: flow.protocol === 'tcp' || flow.protocol === 'tls' }),
        data,
        flow,
        at: this.clock(),
      });
    } catch {
      this.garbage.push(data);
    }
  }

  onFlowClosed(flow: Flow): void {
    this.closedFlows.push(flow);
  }

  /** Sends raw text (LF line ends become CRLF) or a message. */
  send(message: string | SipMessage, target: SendTarget): Promise<Flow> {
    if (this.transport === undefined) throw new Error('SipPeer has no transport');
    const data =
      typeof message === 'string' ? Buffer.from(message.replace(/\r?\n/g, '\r\n')) : serializeMessage(message);
    return this.transport.send(data, target);
  }

  /** Received requests, optionally of one method. */
  requests(method?: string): SipRequest[] {
    const out: SipRequest[] = [];
    for (const r of this.received)
      if (r.message.isRequest() && (method === undefined || r.message.method === method)) out.push(r.message);
    return out;
  }

  /** Received responses, optionally of one status. */
  responses(status?: number): SipResponse[] {
    const out: SipResponse[] = [];
    for (const r of this.received) {
      const m = r.message;
      if (!m.isRequest() && (status === undefined || (m as SipResponse).status === status)) out.push(m as SipResponse);
    }
    return out;
  }

  /** Arrival times of the received messages matching a predicate. */
  times(predicate: (message: SipMessage) => boolean): number[] {
    return this.received.filter((r) => predicate(r.message)).map((r) => r.at);
  }

  /** Forgets everything received so far. */
  clear(): void {
    this.received.length = 0;
    this.garbage.length = 0;
  }
}
