/**
 * Flow tokens (RFC 5626 §5.2): an opaque, HMAC-protected name of the flow a request came in
 * on, carried in the user part of our Record-Route entries, so in-dialog requests reach a
 * client over the connection it opened (RFC 7118 §5: WebSocket clients cannot be dialled).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Flow, SendTarget, TransportProtocol } from '@handset/sip';

/** The send target that reaches back over a flow. */
export function flowTarget(flow: Flow): SendTarget {
  return { protocol: flow.protocol, address: flow.remote.address, port: flow.remote.port, flowId: flow.id };
}

const PROTOCOLS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls', 'ws', 'wss']);

/** Encodes and verifies flow tokens with a server key. */
export class FlowTokenCodec {
  constructor(private readonly key: Buffer) {}

  /** A token naming a flow (or, for UDP, the peer address); safe in a SIP URI user part (base64url). */
  encode(target: SendTarget): string {
    const payload = Buffer.from(`${target.protocol}|${target.flowId ?? ''}|${target.address}|${target.port}`).toString(
      'base64url',
    );
    return `${payload}.${this.mac(payload)}`;
  }

  /** The target a token names, or undefined when it is not one of ours (forged, garbled). */
  decode(token: string): SendTarget | undefined {
    const dot = token.lastIndexOf('.');
    if (dot <= 0 || token.length > 512) return undefined;
    const payload = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(this.mac(payload));
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return undefined;
    const parts = Buffer.from(payload, 'base64url').toString().split('|');
    if (parts.length !== 4 || !PROTOCOLS.has(parts[0]!)) return undefined;
    const port = Number(parts[3]);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
    return {
      protocol: parts[0] as TransportProtocol,
      flowId: parts[1] === '' ? undefined : parts[1],
      address: parts[2]!,
      port,
    };
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url').slice(0, 16);
  }
}
