/**
 * Flow tokens (RFC 5626 §5.2): an opaque, HMAC-protected name of the flow a request came in
 * on, carried in the user part of our Record-Route entries, so in-dialog requests reach a
 * client over the connection it opened (RFC 7118 §5: WebSocket clients cannot be dialled).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type Flow, ownCopy, type SendTarget, type TransportProtocol } from '@handset/sip';

/** The send target that reaches back over a flow. */
export function flowTarget(flow: Flow): SendTarget {
  return { protocol: flow.protocol, address: flow.remote.address, port: flow.remote.port, flowId: flow.id };
}

const PROTOCOLS: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls', 'ws', 'wss']);

/** Tokens remembered each way (an HMAC saved per in-dialog request of a live call); bounded, oldest out. */
const CACHE_SIZE = 4096;

/**
 * Encodes and verifies flow tokens with a server key. Every request of a dialog carries the same
 * token, so the tokens recently made or verified are remembered: only a token that passed the HMAC
 * check is ever remembered, so a forged one is checked (and refused) every time.
 */
export class FlowTokenCodec {
  readonly #encoded = new Map<string, string>();
  readonly #decoded = new Map<string, Readonly<SendTarget>>();

  constructor(private readonly key: Buffer) {}

  /** A token naming a flow (or, for UDP, the peer address); safe in a SIP URI user part (base64url). */
  encode(target: SendTarget): string {
    const plain = `${target.protocol}|${target.flowId ?? ''}|${target.address}|${target.port}`;
    let token = this.#encoded.get(plain);
    if (token === undefined) {
      const payload = Buffer.from(plain).toString('base64url');
      token = `${payload}.${this.mac(payload)}`;
      remember(this.#encoded, ownCopy(plain), token);
    }
    return token;
  }

  /** The target a token names, or undefined when it is not one of ours (forged, garbled). */
  decode(token: string): SendTarget | undefined {
    const known = this.#decoded.get(token);
    if (known !== undefined) return { ...known };
    const target = this.verify(token);
    if (target !== undefined) remember(this.#decoded, ownCopy(token), Object.freeze({ ...target }));
    return target;
  }

  private verify(token: string): SendTarget | undefined {
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

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
}
