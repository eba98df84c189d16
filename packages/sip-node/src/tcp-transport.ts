import { connect, createServer, type Socket } from 'node:net';
import { StreamTransport } from './stream-transport.js';
import type { ListenOptions } from './transport-options.js';

/** SIP over TCP (RFC 3261 §18): one flow per connection, framing by Content-Length. */
export class TcpTransport extends StreamTransport {
  protected readonly connectEvent = 'connect';

  private constructor(options: ListenOptions) {
    super('tcp', createServer({ noDelay: true }), options, true);
  }

  /** Listens on `host:port` (port 0 picks one); resolves once bound. */
  static async listen(options: ListenOptions): Promise<TcpTransport> {
    const transport = new TcpTransport(options);
    await transport.bind(options.host, options.port);
    return transport;
  }

  protected openSocket(address: string, port: number): Socket {
    return connect({ host: address, port, noDelay: true });
  }
}
