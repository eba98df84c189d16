import { cp, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The web phone build that Handset serves (`npm run build` makes it). */
const dist = fileURLToPath(new URL('../../../apps/webphone/dist/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wav': 'audio/wav',
  '.map': 'application/json',
};

/**
 * An HTTP front on 127.0.0.1 for a running Handset, standing in for a deploy: it forwards every
 * request (WebSocket upgrades too) to Handset until {@link deploy} is called, and from then on
 * serves the web phone files of a new build in place of Handset's. The shared build directory is
 * never touched (other tests serve it at the same time).
 */
export class WebphoneFront {
  private next: string | undefined;
  /** The served directory is the caller's (see {@link serve}): close() leaves it. */
  private borrowed = false;
  /** Upgraded (WebSocket) connections: the HTTP server no longer tracks them. */
  private readonly tunnels = new Set<{ destroy(): void }>();

  private constructor(
    private readonly server: Server,
    /** http://127.0.0.1:<port> of the front. */
    readonly url: string,
    private readonly targetPort: number,
  ) {}

  /** Listens on a free port in front of Handset's HTTP port. */
  static async start(targetPort: number): Promise<WebphoneFront> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const addr = server.address();
    const front = new WebphoneFront(
      server,
      `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
      targetPort,
    );
    server.on('request', (req, res) => void front.handle(req, res));
    server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
      const up = connect(targetPort, '127.0.0.1', () => {
        const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        up.write(`${lines.join('\r\n')}\r\n\r\n`);
        up.write(head);
        socket.pipe(up).pipe(socket);
      });
      front.tunnels.add(socket).add(up);
      const drop = () => {
        socket.destroy();
        up.destroy();
        front.tunnels.delete(socket);
        front.tunnels.delete(up);
      };
      up.on('error', drop).on('close', drop);
      socket.on('error', drop).on('close', drop);
    });
    return front;
  }

  /**
   * Builds the "next version" from the current one, the way a deploy changes it: a new build id
   * (shown in the side menu, naming the service worker's cache) and a new hashed bundle name,
   * referenced from index.html and the service worker's shell list. Serves it from now on and
   * returns its build id.
   */
  async deploy(): Promise<string> {
    const build = JSON.parse(await readFile(join(dist, 'build.json'), 'utf8')) as { uuid: string; js: string };
    const uuid = `${build.uuid}.next`;
    const js = build.js.replace(/\.js$/, '-next.js');
    const dir = await mkdtemp(join(tmpdir(), 'handset-webphone-next-'));
    await cp(dist, dir, { recursive: true });
    await rename(join(dir, build.js), join(dir, js));
    for (const f of ['index.html', 'sw.js', 'build.json', js]) {
      const text = await readFile(join(dir, f), 'utf8');
      const changed = text.split(build.uuid).join(uuid).split(build.js).join(js);
      if (changed === text) throw new Error(`deploy: nothing to change in ${f}`);
      await writeFile(join(dir, f), changed);
    }
    this.next = dir;
    return uuid;
  }

  /** Serves the web phone files of `dir` (a build of another version) from now on; the caller keeps `dir`. */
  serve(dir: string): void {
    this.next = dir;
    this.borrowed = true;
  }

  async close(): Promise<void> {
    for (const t of this.tunnels) t.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
    if (this.next && !this.borrowed) await rm(this.next, { recursive: true, force: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://front').pathname;
    if (this.next && req.method === 'GET') {
      const rel = normalize(path === '/' ? '/index.html' : decodeURIComponent(path)).replace(/^\/+/, '');
      const file = join(this.next, rel);
      if (!rel.startsWith('..') && (await stat(file).catch(() => undefined))?.isFile()) {
        res.writeHead(200, {
          'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
          // As Handset serves them: the worker and the page are always revalidated.
          'cache-control': /sw\.js$|index\.html$|manifest/.test(file) ? 'no-cache' : 'public, max-age=3600',
        });
        res.end(await readFile(file));
        return;
      }
    }
    const up = request(
      { host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  }
}
