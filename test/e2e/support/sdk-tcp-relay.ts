import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of Handset's WebSocket port, so a test can cut a phone's connection the
 * way a network loss does (both sockets destroyed, no close handshake) while the server runs on.
 */
export class TcpRelay {
  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly pairs: Set<[Socket, Socket]>,
  ) {}

  /** Listens on a free 127.0.0.1 port and forwards every connection to 127.0.0.1:`targetPort`. */
  static async start(targetPort: number): Promise<TcpRelay> {
    const pairs = new Set<[Socket, Socket]>();
    const server = createServer((client) => {
      const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
      const pair: [Socket, Socket] = [client, upstream];
      pairs.add(pair);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const addr = server.address();
    return new TcpRelay(server, typeof addr === 'object' && addr ? addr.port : 0, pairs);
  }

  /** Connections currently relayed. */
  get connections(): number {
    return this.pairs.size;
  }

  /** Cuts every relayed connection at once. */
  dropAll(): void {
    for (const [a, b] of [...this.pairs]) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  /** Stops listening and cuts what is left. */
  async close(): Promise<void> {
    this.dropAll();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
