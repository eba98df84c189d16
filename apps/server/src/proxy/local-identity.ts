/** Who this server is on the wire: the hosts and ports that mean "us" in URIs, Via and Route. */
import { addressToHost, hostToAddress, type SipUri, type TransportProtocol } from '@handset/sip';

/** A listening socket of ours, as it must appear in Via / Record-Route. */
export interface Listener {
  protocol: TransportProtocol;
  port: number;
}

/** Identity of the local server. */
export class LocalIdentity {
  private readonly hosts: Set<string>;
  private readonly ports = new Map<TransportProtocol, number>();

  /**
   * @param publicHost what we advertise (HANDSET_PUBLIC_HOST)
   * @param aliases other names and addresses that also mean us (bind address, loopback, ...)
   */
  constructor(
    readonly publicHost: string,
    aliases: readonly string[],
    listeners: readonly Listener[],
  ) {
    this.hosts = new Set([publicHost, ...aliases].map((h) => hostToAddress(h.toLowerCase())));
    for (const l of listeners) this.ports.set(l.protocol, l.port);
  }

  /** The port we listen on for a protocol. */
  portOf(protocol: TransportProtocol): number | undefined {
    return this.ports.get(protocol);
  }

  /** True when a host names this server. */
  isOurHost(host: string): boolean {
    return this.hosts.has(hostToAddress(host.toLowerCase()));
  }

  /** True when a SIP URI points at this server (host ours and port one of ours or absent). */
  isUs(uri: SipUri): boolean {
    if (uri.scheme !== 'sip' && uri.scheme !== 'sips') return false;
    if (!this.isOurHost(uri.host)) return false;
    if (uri.port === undefined) return true;
    for (const p of this.ports.values()) if (p === uri.port) return true;
    return false;
  }

  /** `host:port` to put in a Via or Record-Route for a protocol. */
  sentBy(protocol: TransportProtocol): string {
    const port = this.ports.get(protocol);
    const host = addressToHost(this.publicHost);
    return port === undefined ? host : `${host}:${port}`;
  }
}
