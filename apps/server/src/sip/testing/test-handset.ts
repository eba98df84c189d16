/**
 * A whole Handset server in the test process, on 127.0.0.1 with ephemeral ports, a data
 * directory of its own, and the test UAs that talk to it; `close()` ends everything.
 */
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadServerConfig, type ServerConfig } from '../../config/server-config.js';
import { type HandsetServer, startHandset } from '../../main.js';
import { TestUa, type TestUaOptions, type TestUaTransport } from './test-ua.js';

/** Options of {@link TestHandset.start}. */
export interface TestHandsetOptions {
  /** Extra HANDSET_* variables (strings, as in the environment). */
  env?: Record<string, string>;
}

const BASE_ENV = {
  HANDSET_BIND: '127.0.0.1',
  HANDSET_PUBLIC_HOST: '127.0.0.1',
  HANDSET_SIP_PORT: '0',
  HANDSET_HTTP_PORT: '0',
  HANDSET_LOG_LEVEL: 'silent',
  // No private rtpengine per test server: media tests turn anchoring on themselves.
  HANDSET_MEDIA_ANCHOR: 'never',
};

/** A running server plus the UAs a test opened. */
export class TestHandset {
  readonly uas: TestUa[] = [];
  private closed = false;

  private constructor(
    public server: HandsetServer,
    readonly config: ServerConfig,
    readonly dataDir: string,
  ) {}

  /** Starts Handset on a new data directory (copied from a cached, migrated one when possible). */
  static async start(opts: TestHandsetOptions = {}): Promise<TestHandset> {
    const dataDir = await freshDataDir();
    const config = loadServerConfig({ ...BASE_ENV, HANDSET_DATA_DIR: dataDir, ...opts.env });
    try {
      return new TestHandset(await startServer(config), config, dataDir);
    } catch (err) {
      await rm(dataDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The port a UA of that transport talks to. */
  portOf(transport: TestUaTransport): number {
    const p = transport === 'ws' ? this.server.httpPort : this.server.sipPorts[transport];
    if (p === undefined) throw new Error(`no ${transport} listener`);
    return p;
  }

  /** Opens a UA for `user@domain` over `transport`; it is closed with the server. */
  async ua(
    transport: TestUaTransport,
    user: string,
    domain: string,
    password?: string,
    extra: Partial<TestUaOptions> = {},
  ): Promise<TestUa> {
    const ua = await TestUa.open({
      transport,
      server: { host: '127.0.0.1', port: this.portOf(transport) },
      user,
      domain,
      password,
      ...extra,
    });
    this.uas.push(ua);
    return ua;
  }

  /** Adds a domain (if new) and its users (`ext -> password`). */
  async provision(domain: string, users: Record<string, string>): Promise<void> {
    if (!(await this.server.directory.getDomain(domain))) await this.server.directory.addDomain(domain);
    for (const [ext, password] of Object.entries(users)) await this.server.directory.addUser({ domain, ext, password });
  }

  /** GET /metrics as text. */
  async metrics(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.server.httpPort}/metrics`);
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
    return res.text();
  }

  /** The value of one sample line of /metrics (`name{labels}`), or undefined. */
  async metric(sample: string): Promise<number | undefined> {
    const text = await this.metrics();
    for (const line of text.split('\n')) {
      if (line.startsWith(sample + ' ')) return Number(line.slice(sample.length + 1));
    }
    return undefined;
  }

  /** Stops the server (the UAs stay open) and starts it again on the same data directory and ports-by-config. */
  async restart(): Promise<void> {
    await this.server.close();
    this.server = await startServer(this.config);
  }

  /** Stops the server only; `close()` later removes the data directory. */
  async stop(): Promise<void> {
    await this.server.close();
  }

  /** Closes every UA and the server and removes the data directory. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const ua of this.uas) ua.close();
    await this.server.close();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** Polls `check` until it returns true (every 20 ms) or throws after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function startServer(config: ServerConfig): Promise<HandsetServer> {
  const level = process.env.HANDSET_TEST_LOG ?? 'silent';
  return startHandset(config, { runFile: false, logger: pino({ level }) });
}

/**
 * A new data directory. Creating and migrating an embedded database takes several seconds,
 * so the first call makes a template (keyed by the schema sources) that later calls copy.
 */
async function freshDataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'handset-it-'));
  const template = await templateDir().catch(() => undefined);
  if (template) await cp(template, dir, { recursive: true });
  return dir;
}

async function templateDir(): Promise<string> {
  const hash = createHash('sha256');
  for (const f of ['../../store/migrations.ts', '../../store/schema.ts'])
    hash.update(await readFile(new URL(f, import.meta.url)));
  const path = join(tmpdir(), `handset-it-template-${hash.digest('hex').slice(0, 16)}`);
  try {
    await readFile(join(path, 'secret.key'));
    return path;
  } catch {
    /* not made yet */
  }
  const build = await mkdtemp(join(tmpdir(), 'handset-it-build-'));
  try {
    const server = await startServer(loadServerConfig({ ...BASE_ENV, HANDSET_DATA_DIR: build }));
    await server.close();
    await rename(build, path);
  } catch {
    // Another test file made it first (rename onto a full directory fails): use theirs.
    await rm(build, { recursive: true, force: true });
  }
  await readFile(join(path, 'secret.key'));
  return path;
}
