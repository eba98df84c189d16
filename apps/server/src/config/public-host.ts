/**
 * The host Handset advertises to phones (Via, Record-Route, Path, activation and web phone links)
 * when HANDSET_PUBLIC_HOST is not set: the bind address when it is a specific one, else the
 * address this host sends from on its default route (what other machines on the LAN or the
 * internet see), else the first non-loopback interface address. Only a host without any such
 * address falls back to loopback, and then says so.
 */
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/** Where the advertised host came from. */
export type PublicHostSource = 'environment' | 'bind' | 'route' | 'interface' | 'loopback';

/** The advertised host and how it was chosen. */
export interface PublicHostChoice {
  host: string;
  source: PublicHostSource;
}

/** Bind addresses that mean "every interface". */
export const WILDCARD_ADDRESSES: ReadonlySet<string> = new Set(['0.0.0.0', '::']);

/** True for 127.0.0.0/8, ::1, `localhost` and IPv4-mapped loopback. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/** Interface addresses a phone elsewhere could reach: not internal, not IPv6 link-local. */
export function reachableInterfaceAddresses(
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string[] {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.internal || isLoopbackHost(a.address)) continue;
      if (a.family === 'IPv4') v4.push(a.address);
      else if (!/^fe[89ab]/i.test(a.address)) v6.push(a.address);
    }
  }
  return [...v4, ...v6];
}

/**
 * The synchronous guess used while the configuration is read: the bind address when specific,
 * else the first reachable interface address (IPv4 first), else 127.0.0.1.
 */
export function guessPublicHost(bind: string, interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>): PublicHostChoice {
  if (!WILDCARD_ADDRESSES.has(bind)) return { host: bind, source: 'bind' };
  const first = reachableInterfaceAddresses(interfaces)[0];
  return first === undefined ? { host: '127.0.0.1', source: 'loopback' } : { host: first, source: 'interface' };
}

/**
 * The local address the kernel picks to reach `probe` (a UDP "connect" sends nothing: it only
 * looks up the route). Undefined when there is no route (an offline host) or within 1 s.
 */
export function routeSourceAddress(probe: string, family: 'udp4' | 'udp6' = 'udp4'): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(family);
    let settled = false;
    const done = (address: string | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      try {
        socket.close();
      } catch {
        /* never bound */
      }
      resolve(address);
    };
    const timer = setTimeout(() => done(undefined), 1000);
    socket.once('error', () => done(undefined));
    socket.connect(9, probe, () => {
      try {
        const a = socket.address().address;
        done(isLoopbackHost(a) || WILDCARD_ADDRESSES.has(a) ? undefined : a);
      } catch {
        done(undefined);
      }
    });
  });
}

/** Route probes: documentation addresses (RFC 5737, RFC 3849), never sent to, reached by the default route. */
const ROUTE_PROBES = { v4: '198.51.100.1', v6: '2001:db8::1' } as const;

/**
 * Refines the configured guess with the address of the default route (IPv4, then IPv6), when
 * the host was not configured and Handset listens on every interface.
 */
export async function detectPublicHost(
  bind: string,
  deps: { route?: typeof routeSourceAddress; interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]> } = {},
): Promise<PublicHostChoice> {
  if (!WILDCARD_ADDRESSES.has(bind)) return { host: bind, source: 'bind' };
  const route = deps.route ?? routeSourceAddress;
  const routed =
    (await route(ROUTE_PROBES.v4, 'udp4')) ?? (bind === '::' ? await route(ROUTE_PROBES.v6, 'udp6') : undefined);
  if (routed !== undefined) return { host: routed, source: 'route' };
  return guessPublicHost(bind, deps.interfaces);
}
