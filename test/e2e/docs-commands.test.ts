/**
 * The README and docs cannot drift from the product: the commands, scripts, paths, variables and
 * URLs they show are read from the files and run or checked here, against the built CLI and a
 * built server started for the purpose.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, startHandset, type HandsetProcess } from './support/handset.js';

const execFileP = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const DOCS = [
  'README.md',
  'bench/sip/README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const text = Object.fromEntries(DOCS.map((d) => [d, read(d)]));

/** The shell lines of the fenced `sh` blocks of a file, continuation lines joined, comments dropped. */
function shellLines(markdown: string): string[] {
  const out: string[] = [];
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = block[1]!.replace(/\\\n\s*/g, ' ');
    for (const line of joined.split('\n')) {
      const l = line.replace(/\s+#\s.*$/, '').trim();
      if (l !== '') out.push(l);
    }
  }
  return out;
}

/** Splits a shell line into words (single and double quotes, no expansions). */
function words(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}

describe('README and docs', () => {
  it('name only npm scripts that exist', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    const named = new Set<string>();
    const missing: string[] = [];
    for (const [file, t] of Object.entries(text))
      for (const m of t.matchAll(/npm run ([\w:.-]+)(?: -w ([\w./-]+))?/g)) {
        named.add(`${m[1]} (${file})`);
        // `npm run <script> -w <workspace>` names a script of that workspace's package.json.
        const own = m[2]
          ? ((JSON.parse(read(`${m[2]}/package.json`)) as { scripts?: Record<string, string> }).scripts ?? {})
          : scripts;
        if (!(m[1]! in own)) missing.push(`${m[1]} (${file})`);
      }
    expect(named.size).toBeGreaterThan(3);
    expect(missing).toEqual([]);
  });

  it('name only repository paths that exist, and nothing outside the repository', () => {
    const missing: string[] = [];
    for (const [file, t] of Object.entries(text)) {
      expect(t, file).not.toMatch(/\.\.\/shared|\/work\//);
      expect(t, file).not.toMatch(/\bissue \d+\b/i);
      for (const m of t.matchAll(/`((?:apps|packages|bench|docs|scripts|test)\/[\w./-]*[\w/])`/g)) {
        const p = m[1]!;
        if (/dist\/|\/\*/.test(p)) continue; // build outputs, globs
        if (!existsSync(join(root, p))) missing.push(`${p} (${file})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('document every environment variable the server reads, and only those', () => {
    const config = read('apps/server/src/config/server-config.ts');
    const schemaStart = config.indexOf('const envSchema');
    const read_ = new Set(
      [...config.slice(schemaStart).matchAll(/^\s{4}((?:HANDSET|DATABASE|REDIS)_[A-Z0-9_]+):/gm)].map((m) => m[1]!),
    );
    expect(read_.size).toBeGreaterThan(30);
    const readme = text['README.md']!;
    // The table writes related variables together: `HANDSET_REG_MIN_EXPIRES` / `_MAX_EXPIRES`.
    const undocumented = [...read_].filter(
      (v) => !readme.includes(v) && !readme.includes(`\`_${v.split('_').slice(-2).join('_')}\``),
    );
    expect(undocumented).toEqual([]);
    // The reference device adapter (examples/) is a separate program with variables of its own.
    const adapterVars = new Set(
      [...read('examples/baresip-adapter/src/main.ts').matchAll(/env\.(HANDSET_[A-Z0-9_]+)/g)].map((m) => m[1]!),
    );
    const unknown = new Set<string>();
    for (const [file, t] of Object.entries(text))
      for (const m of t.matchAll(/\b(HANDSET_[A-Z0-9_]*[A-Z0-9])\b/g))
        if (!read_.has(m[1]!) && !adapterVars.has(m[1]!) && !/^HANDSET_(CLI|NODE_FLAGS|SIPP_SCENARIOS)$/.test(m[1]!))
          unknown.add(`${m[1]} (${file})`);
    expect([...unknown]).toEqual([]);
  });

  it('list every CLI command the CLI has', async () => {
    const { stdout } = await execFileP(process.execPath, [cliPath, '--help']);
    const commands = [...stdout.matchAll(/^ {2}([a-z]+(?: [a-z]+)?)\s/gm)].map((m) => m[1]!);
    expect(commands).toContain('activations create');
    const readme = text['README.md']!;
    const missing = commands.filter((c) => !readme.includes(`handset ${c}`));
    expect(missing).toEqual([]);
  });
});

describe("the README's quick start, run as written", () => {
  let work: string;
  let h: HandsetProcess | undefined;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'handset-docs-'));
    // The commands work with or without a server; through a running one each takes a moment
    // instead of opening the embedded database itself.
    h = await startHandset({ HANDSET_DATA_DIR: join(work, 'data') });
  }, 600_000);
  afterAll(async () => {
    await h?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('./handset --help runs the CLI', async () => {
    const { stdout } = await execFileP(join(root, 'handset'), ['--help']);
    expect(stdout).toContain('Usage: handset');
  });

  it('every `npx handset` line succeeds against a fresh server', async () => {
    const lines = shellLines(text['README.md']!).filter((l) => l.startsWith('npx handset '));
    expect(lines.length).toBeGreaterThan(10);
    await writeFile(
      join(work, 'users.csv'),
      'ext,password,name,email\n1101,Imported-Secret-1101,Ines,ines@example.com\n',
    );
    const env = { ...process.env, HANDSET_DATA_DIR: join(work, 'data'), HANDSET_HTTP_PORT: String(h!.httpPort) };
    for (const line of lines) {
      const args = words(line).slice(2);
      const result = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [cliPath, ...args], { cwd: work, env, stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (out += d.toString()));
        child.stdin.end(args.includes('--password-stdin') ? 'Root-Password-From-Stdin-1\n' : '');
        child.on('exit', (code) => resolve({ code, out }));
      });
      expect(result.code, `${line}\n${result.out}`).toBe(0);
    }
    expect(existsSync(join(work, 'qr.png'))).toBe(true);
  }, 600_000);

  it('the URLs it names answer on a running server, and the curl examples work', async () => {
    const base = `http://127.0.0.1:${h!.httpPort}`;
    for (const path of ['/', '/api/docs', '/api/v1/openapi.json', '/healthz', '/metrics']) {
      expect(text['README.md']).toContain(path === '/' ? ':8080/' : path);
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
    }
    // The OpenAPI document covers the routes served outside the generated scope too.
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    for (const path of [
      '/api/v1/users',
      '/api/v1/webhooks',
      '/api/v1/webhooks/{id}/deliveries',
      '/api/v1/provisioning/codes',
      '/api/v1/provisioning/devices/{id}',
      '/api/v1/webrtc/ice-servers',
      '/api/v1/events',
      '/app/sessiontalk/provision',
    ])
      expect(Object.keys(doc.paths), path).toContain(path);
    const token = (await h!.cli('tokens', 'create', 'bob@example.com')).trim().split('\n').pop()!;
    const curls = shellLines(text['README.md']!).filter((l) => l.startsWith('curl '));
    expect(curls.length).toBeGreaterThanOrEqual(3);
    for (const line of curls) {
      const cmd = line.replaceAll('http://localhost:8080', base).replace(/^curl -s /, 'curl -sSf ');
      const { stdout } = await execFileP('sh', ['-c', cmd], { cwd: work, env: { ...process.env, TOKEN: token } });
      expect(stdout, line).not.toMatch(/"error"/);
    }
    expect(readFileSync(join(work, 'cdrs.csv'), 'utf8')).toMatch(/^\S+,/);
  });
});
