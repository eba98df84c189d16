import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { dropPrefix } from '../../../apps/server/src/cluster/cluster-test-support.js';
import { createTestDatabase, type TestDatabase } from '../../../apps/server/src/store/test-databases.js';
import { freePort, startHandset, type HandsetProcess } from './handset.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** The Redis the cluster tests use (HANDSET_TEST_REDIS_URL, default the local one). */
export const CLUSTER_REDIS_URL = process.env.HANDSET_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** What every node of one test cluster shares: a throw-away database, a Redis key prefix, the server key. */
export interface ClusterShared {
  readonly db: TestDatabase;
  readonly prefix: string;
  readonly key: string;
  /** Reads the shared location directly (what a node stored, and through which node). */
  readonly redis: Redis;
  /** Drops the database and the prefix's keys. */
  drop(): Promise<void>;
}

/** A new database and Redis prefix; undefined when PostgreSQL is not there (outside CI only). */
export async function clusterShared(): Promise<ClusterShared | undefined> {
  const db = await createTestDatabase();
  if (!db) return undefined;
  const prefix = `handset-e2e-${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(CLUSTER_REDIS_URL);
  return {
    db,
    prefix,
    key: randomBytes(32).toString('base64'),
    redis,
    async drop() {
      await dropPrefix(redis, prefix);
      redis.disconnect();
      await db.drop();
    },
  };
}

/** Starts node `id` of the cluster (its own data dir and ports); `env` adds settings. */
export function startClusterNode(
  shared: ClusterShared,
  id: string,
  env: Record<string, string> = {},
): Promise<HandsetProcess> {
  return startHandset(
    {
      DATABASE_URL: shared.db.url,
      REDIS_URL: CLUSTER_REDIS_URL,
      HANDSET_REDIS_PREFIX: shared.prefix,
      HANDSET_SECRET_KEY: shared.key,
      HANDSET_NODE_ID: id,
      HANDSET_CLUSTER_HEARTBEAT_MS: '500',
      ...env,
      // A fresh PostgreSQL database is migrated by the first node: slow on a loaded machine.
    },
    { startTimeoutMs: 120_000 },
  );
}

/** The stored bindings of an AOR, as the shared location holds them. */
export async function sharedBindings(
  shared: ClusterShared,
  aor: string,
): Promise<Array<{ node: string; run: string; transport: string; cseq: number; contactUri: string }>> {
  const fields = await shared.redis.hgetall(`${shared.prefix}aor:${aor}`);
  return Object.values(fields).map((v) => JSON.parse(v) as never);
}

/** Kamailio with the dispatcher config of bench/cluster, in front of the given nodes. */
export interface Balancer {
  readonly port: number;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts the balancer on a free port (UDP and TCP) with `sipPorts` as its dispatcher set. */
export async function startBalancer(sipPorts: readonly number[]): Promise<Balancer> {
  const dir = await mkdtemp(join(tmpdir(), 'handset-balancer-'));
  const port = await freePort();
  const list = join(dir, 'dispatcher.list');
  await writeFile(list, sipPorts.map((p) => `1 sip:127.0.0.1:${p} 0 0\n`).join(''));
  const modules = await kamailioModules();
  const template = await readFile(join(repoRoot, 'bench/cluster/kamailio-dispatcher.cfg'), 'utf8');
  const cfg = join(dir, 'kamailio.cfg');
  await writeFile(
    cfg,
    template
      .replaceAll('%%LISTEN%%', `127.0.0.1:${port}`)
      .replaceAll('%%LIST%%', list)
      .replaceAll('%%MODULES%%', modules),
  );
  let out = '';
  const child = spawn('kamailio', ['-DD', '-E', '-m', '128', '-M', '16', '-f', cfg, '-Y', dir, '-w', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => setTimeout(r, 1500));
  if (child.exitCode !== null) throw new Error(`kamailio exited with ${child.exitCode}:\n${out}`);
  return {
    port,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(t);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function kamailioModules(): Promise<string> {
  for (const d of ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/aarch64-linux-gnu/kamailio/modules']) {
    try {
      if ((await readdir(d)).includes('dispatcher.so')) return d;
    } catch {
      /* not this architecture */
    }
  }
  throw new Error('Kamailio modules (dispatcher.so) not found: apt-get install -y kamailio');
}
