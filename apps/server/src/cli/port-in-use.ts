/**
 * Turns "address already in use" from any listener into one line an admin can act on: which
 * port, which variable sets it, and that another Handset may hold it.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { ServerConfig } from '../config/server-config.js';

/** A port Handset binds, with the variable that sets it. */
interface Listener {
  port: number;
  protocol: 'udp' | 'tcp';
  variable: string;
  what: string;
}

/** True when an error (or its cause chain) says an address is in use. */
export function isAddressInUse(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE' || /address already in use/i.test(e.message)) return true;
  }
  return false;
}

function listenersOf(config: ServerConfig): Listener[] {
  const out: Listener[] = [
    { port: config.sipPort, protocol: 'udp', variable: 'HANDSET_SIP_PORT', what: 'SIP over UDP' },
    { port: config.sipPort, protocol: 'tcp', variable: 'HANDSET_SIP_PORT', what: 'SIP over TCP' },
    { port: config.httpPort, protocol: 'tcp', variable: 'HANDSET_HTTP_PORT', what: 'HTTP and SIP over WebSocket' },
  ];
  if (config.tls) {
    out.push({ port: config.sipTlsPort, protocol: 'tcp', variable: 'HANDSET_SIP_TLS_PORT', what: 'SIP over TLS' });
    out.push({ port: config.httpsPort, protocol: 'tcp', variable: 'HANDSET_HTTPS_PORT', what: 'HTTPS and WSS' });
  }
  return out.filter((l) => l.port !== 0);
}

function canBind(l: Listener, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    if (l.protocol === 'udp') {
      const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      s.once('error', () => resolve(false));
      s.bind(l.port, host, () => s.close(() => resolve(true)));
    } else {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(l.port, host, () => s.close(() => resolve(true)));
    }
  });
}

/**
 * The one-line explanation of a failed start whose cause is a port in use (found by trying each
 * configured port again, now that the failed start has released its own), or undefined.
 */
export async function explainAddressInUse(err: unknown, config: ServerConfig): Promise<string | undefined> {
  if (!isAddressInUse(err)) return undefined;
  for (const l of listenersOf(config)) {
    if (!(await canBind(l, config.bind))) {
      return (
        `port ${l.port}/${l.protocol} (${l.what}, set by ${l.variable}) is already in use on ${config.bind}: ` +
        `another Handset (or another SIP or web server) may be running; stop it or set ${l.variable} to a free port`
      );
    }
  }
  return 'a port Handset needs is already in use: another Handset may be running';
}
