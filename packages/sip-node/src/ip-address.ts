const MAPPED_V4 = '::ffff:';

/** Turns an IPv4-mapped IPv6 address (from a dual-stack socket) back into plain IPv4; other addresses pass through. */
export function unmapIpv4(address: string | undefined): string {
  if (address === undefined) return '';
  if (address.length > MAPPED_V4.length && address.startsWith(MAPPED_V4) && address.includes('.', MAPPED_V4.length)) {
    return address.slice(MAPPED_V4.length);
  }
  return address;
}

/** `host:port`, with IPv6 hosts in brackets: a printable, parseable endpoint. */
export function formatHostPort(address: string, port: number): string {
  // Only IPv6 literals contain ':' (host names and IPv4 never do); cheaper than isIPv6 per datagram.
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Parses `host:port` or `[v6]:port` as written by formatHostPort; undefined if malformed. */
export function parseHostPort(text: string): { address: string; port: number } | undefined {
  const colon = text.lastIndexOf(':');
  if (colon <= 0) return undefined;
  let address = text.slice(0, colon);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  const port = Number(text.slice(colon + 1));
  if (!Number.isInteger(port) || port <= 0 || port > 65535 || address === '') return undefined;
  return { address, port };
}
