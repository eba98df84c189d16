import { isIP, type Socket } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { StreamTransport } from './stream-transport.js';
import { resolveLimits, type ListenOptions } from './transport-options.js';

/** Options of a TLS transport: the server certificate, and how outbound connections verify peers. */
export interface TlsListenOptions extends ListenOptions {
  /** PEM certificate (chain) presented to peers. */
  readonly cert: string | Buffer;
  /** PEM private key of `cert`. */
  readonly key: string | Buffer;
  /** CAs trusted when this transport opens a connection; default the system store. */
  readonly ca?: string | Buffer | Array<string | Buffer> | undefined;
  /** Verify the peer certificate on outbound connections. Default true. */
  readonly rejectUnauthorized?: boolean | undefined;
}

/** SIP over TLS (RFC 3261 §26.2.1 / §18): TCP framing over node:tls. */
export class TlsTransport extends StreamTransport {
  protected readonly connectEvent = 'secureConnect';
  private readonly ca: TlsListenOptions['ca'];
  private readonly rejectUnauthorized: boolean;

  private constructor(options: TlsListenOptions) {
    const limits = resolveLimits(options.limits);
    const server = createServer({
      cert: options.cert,
      key: options.key,
      // A peer that stalls in the handshake holds a slot; bound it like an outbound attempt.
      handshakeTimeout: Math.min(limits.connectTimeoutMs, limits.idleTimeoutMs),
    });
    super('tls', server, options, false);
    this.ca = options.ca;
    this.rejectUnauthorized = options.rejectUnauthorized ?? true;
    server.on('secureConnection', (socket: TLSSocket) => this.adoptInbound(socket));
    server.on('tlsClientError', (err, socket) =>
      this.logger.debug({ err, remote: socket.remoteAddress }, 'SIP TLS handshake failed'),
    );
  }

  /** Listens on `host:port` (port 0 picks one); resolves once bound. */
  static async listen(options: TlsListenOptions): Promise<TlsTransport> {
    const transport = new TlsTransport(options);
    await transport.bind(options.host, options.port);
    return transport;
  }

  protected openSocket(address: string, port: number): Socket {
    return connect({
      host: address,
      port,
      ca: this.ca,
      rejectUnauthorized: this.rejectUnauthorized,
      // SNI carries host names only (RFC 6066 §3); certificates for IPs are checked against IP SANs.
      servername: isIP(address) === 0 ? address : undefined,
    });
  }
}
