import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

/** The sending side of a raw exchange, known only once the socket is bound. */
export interface RawLocal {
  readonly transport: 'UDP' | 'TCP';
  readonly port: number;
  /** A ready Via value for this socket: `SIP/2.0/UDP 127.0.0.1:port;branch=z9hG4bK...;rport`. */
  readonly via: string;
}

/** What came back for raw bytes sent to the server. */
export interface RawExchange {
  /** Everything received, as latin1 text. */
  readonly received: string;
  /** Status codes of every SIP response received (start lines `SIP/2.0 NNN`). */
  readonly statuses: readonly number[];
  /** TCP only: the server closed (or reset) the connection. */
  readonly closed: boolean;
}

/** Builds the bytes to send once the local port is known. */
export type RawBuilder = (local: RawLocal) => Buffer | string;

/** Ends the wait early; the default waits for the first final (>= 200) response. */
export type RawUntil = (ex: RawExchange) => boolean;

const finalResponse: RawUntil = (ex) => ex.statuses.some((s) => s >= 200);

/** Status codes of every SIP response start line in `text`. */
export function sipStatuses(text: string): number[] {
  return [...text.matchAll(/(?:^|\r?\n)SIP\/2\.0 (\d{3}) /g)].map((m) => Number(m[1]));
}

function viaFor(transport: 'UDP' | 'TCP', port: number): string {
  return `SIP/2.0/${transport} 127.0.0.1:${port};branch=z9hG4bK${randomBytes(8).toString('hex')};rport`;
}

/** Sends one datagram to 127.0.0.1:port from a fresh socket and collects what comes back for up to `waitMs`. */
export async function exchangeUdp(
  port: number,
  build: RawBuilder,
  waitMs = 1_000,
  until: RawUntil = finalResponse,
): Promise<RawExchange> {
  const sock = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => resolve());
  });
  const local: RawLocal = { transport: 'UDP', port: sock.address().port, via: viaFor('UDP', sock.address().port) };
  const payload = build(local);
  let received = '';
  const snapshot = (): RawExchange => ({ received, statuses: sipStatuses(received), closed: false });
  try {
    return await new Promise<RawExchange>((resolve, reject) => {
      const timer = setTimeout(() => resolve(snapshot()), waitMs);
      sock.on('message', (msg) => {
        received += msg.toString('latin1');
        if (until(snapshot())) {
          clearTimeout(timer);
          resolve(snapshot());
        }
      });
      // ICMP port unreachable surfaces as an error on some platforms: treat as "nothing came back".
      sock.on('error', () => undefined);
      sock.send(typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload, port, '127.0.0.1', (err) => {
        if (err) {
          clearTimeout(timer);
          reject(err);
        }
      });
    });
  } finally {
    sock.close();
  }
}

/** Opens a TCP connection to 127.0.0.1:port, writes the bytes and collects replies for up to `waitMs`. */
export async function exchangeTcp(
  port: number,
  build: RawBuilder,
  waitMs = 1_000,
  until: RawUntil = finalResponse,
): Promise<RawExchange> {
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const local: RawLocal = { transport: 'TCP', port: sock.localPort ?? 0, via: viaFor('TCP', sock.localPort ?? 0) };
  const payload = build(local);
  let received = '';
  let closed = false;
  const snapshot = (): RawExchange => ({ received, statuses: sipStatuses(received), closed });
  try {
    return await new Promise<RawExchange>((resolve) => {
      const timer = setTimeout(() => resolve(snapshot()), waitMs);
      const finish = () => {
        clearTimeout(timer);
        resolve(snapshot());
      };
      sock.on('data', (d: Buffer) => {
        received += d.toString('latin1');
        if (until(snapshot())) finish();
      });
      sock.on('error', () => {
        closed = true; // ECONNRESET or EPIPE: the server dropped us
        finish();
      });
      sock.on('end', () => {
        closed = true;
        finish();
      });
      sock.write(typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload, () => undefined);
    });
  } finally {
    sock.destroy();
  }
}

/** Turns a message written with `\n` line ends into wire form with CRLF. */
export function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/** A well-formed OPTIONS to the domain itself, as a liveness probe: any SIP response means the server is serving. */
export function optionsProbe(domain: string): RawBuilder {
  return (local) => {
    const tag = randomBytes(4).toString('hex');
    return crlf(`OPTIONS sip:${domain} SIP/2.0
Via: ${local.via}
Max-Forwards: 70
From: <sip:probe@${domain}>;tag=${tag}
To: <sip:${domain}>
Call-ID: probe-${randomBytes(8).toString('hex')}@127.0.0.1
CSeq: 1 OPTIONS
Contact: <sip:probe@127.0.0.1:${local.port};transport=${local.transport.toLowerCase()}>
Accept: application/sdp
Content-Length: 0

`);
  };
}
