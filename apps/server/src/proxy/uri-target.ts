/** Where to send a request for a URI (RFC 3263 reduced to A/AAAA lookups; no NAPTR/SRV yet). */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { hostToAddress, type SendTarget, type SipUri, type TransportProtocol } from '@handset/sip';

const KNOWN: ReadonlySet<string> = new Set(['udp', 'tcp', 'tls', 'ws', 'wss']);

/** The transport a URI asks for (`;transport=`, sips -> tls), or undefined when unsupported. */
export function uriProtocol(uri: SipUri): TransportProtocol | undefined {
  const t = uri.params.get('transport')?.toLowerCase();
  if (t === undefined || t === null) return uri.scheme === 'sips' ? 'tls' : 'udp';
  if (!KNOWN.has(t)) return undefined;
  if (uri.scheme === 'sips' && t === 'tcp') return 'tls';
  return t as TransportProtocol;
}

/** Default port of a protocol (RFC 3261 §19.1.2, RFC 7118 uses the HTTP ports). */
export function defaultPort(protocol: TransportProtocol): number {
  return protocol === 'tls' ? 5061 : protocol === 'ws' ? 80 : protocol === 'wss' ? 443 : 5060;
}

/** Resolves a SIP URI to a send target; undefined for `.invalid` hosts (reachable only over a flow) and unknown names. */
export async function resolveUriTarget(uri: SipUri): Promise<SendTarget | undefined> {
  const protocol = uriProtocol(uri);
  if (protocol === undefined || uri.host.endsWith('.invalid')) return undefined;
  const host = hostToAddress(uri.host);
  const port = uri.port ?? defaultPort(protocol);
  if (isIP(host) !== 0) return { protocol, address: host, port };
  try {
    const { address } = await lookup(host);
    return { protocol, address, port };
  } catch {
    return undefined;
  }
}
