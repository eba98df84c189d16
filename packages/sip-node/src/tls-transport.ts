import { isIP, type Socket } from 'node:net';
import { connect, createServer, type Server, type TLSSocket } from 'node:tls';
import { StreamTransport } from './stream-transport.js';
import { TLS_POLICY } from './tls-policy.js';
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
  private readonly tlsServer: Server;

  private constructor(options: TlsListenOptions) {
    const limits = resolveLimits(options.limits);
    const server = createServer({
      ...TLS_POLICY,
      cert: options.cert,
      key: options.key,
      // A peer that stalls in the handshake holds a slot; bound it like an outbound attempt.
      handshakeTimeout: Math.min(limits.connectTimeoutMs, limits.idleTimeoutMs),
    });
    super('tls', server, options, false);
    this.tlsServer = server;
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

  /**
   * Presents a new certificate and key to connections accepted from now on (a renewed certificate,
   * without a restart); connections already up keep theirs. Throws when the pair is unusable.
   */
  setCertificate(cert: string | Buffer, key: string | Buffer): void {
    this.tlsServer.setSecureContext({ ...TLS_POLICY, cert, key });
  }

  protected openSocket(address: string, port: number): Socket {
    return connect({
      ...TLS_POLICY,
      host: address,
      port,
      ca: this.ca,
      rejectUnauthorized: this.rejectUnauthorized,
      // SNI carries host names only (RFC 6066 §3); certificates for IPs are checked against IP SANs.
      servername: isIP(address) === 0 ? address : undefined,
    });
  }
}
