import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** The built CLI (npm run build makes it; `pretest:e2e` runs the build). */
export const cliPath = join(repoRoot, 'apps/server/dist/cli/main.js');

/** A free port on 127.0.0.1 for both TCP and UDP (checked on both). */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port');
}

/** A Handset server started from the build as a child process, on free ports and a temp data dir. */
export interface HandsetProcess {
  readonly sipPort: number;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything the server wrote to stdout and stderr so far (pino JSON lines). */
  output(): string;
  /** Runs `handset <args...>` against this server's data dir; rejects with stderr on non-zero exit. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** Starts Handset and waits for GET /healthz to answer 200. */
export async function startHandset(
  env: Record<string, string> = {},
  opts: { startTimeoutMs?: number } = {},
): Promise<HandsetProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), 'handset-e2e-'));
  const sipPort = Number(env.HANDSET_SIP_PORT ?? (await freePort()));
  const httpPort = Number(env.HANDSET_HTTP_PORT ?? (await freePort()));
  const fullEnv = {
    ...process.env,
    HANDSET_DATA_DIR: dataDir,
    HANDSET_BIND: '127.0.0.1',
    HANDSET_PUBLIC_HOST: '127.0.0.1',
    HANDSET_SIP_PORT: String(sipPort),
    HANDSET_HTTP_PORT: String(httpPort),
    HANDSET_LOG_LEVEL: 'info',
    ...env,
  };
  let out = '';
  const child = spawn(process.execPath, [cliPath, 'start'], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`handset exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`handset did not become healthy:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    sipPort,
    httpPort,
    dataDir,
    child,
    output: () => out,
    async cli(...args: string[]) {
      const { stdout } = await execFileP(process.execPath, [cliPath, ...args], { env: fullEnv, maxBuffer: 64 << 20 });
      return stdout;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
