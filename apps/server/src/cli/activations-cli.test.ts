import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../config/server-config.js';
import { startHandset, type HandsetServer } from '../main.js';
import { inProcessIo, runHandset } from './cli-test-helpers.js';
import { runCli } from './run-cli.js';

const QR_LINE = /^scsc:1001@acme\.example:[A-Za-z0-9_-]+$/;

function io(dataDir: string) {
  return inProcessIo({ HANDSET_DATA_DIR: dataDir }, dataDir);
}

async function decodePng(path: string): Promise<string | undefined> {
  const png = PNG.sync.read(await readFile(path));
  const found: unknown = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  return (found as { data: string } | null)?.data;
}

describe('handset activations create', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'handset-activations-'));
    for (const argv of [
      ['domains', 'add', 'acme.example'],
      ['users', 'add', '1001@acme.example', '--password', 'pw-1001'],
    ])
      expect(await runCli(argv, io(dataDir).io)).toBe(0);
    // Every command opens the embedded database: slow on a loaded machine.
  }, 180_000);
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('prints the expiry, the Windows link and the QR text alone on the last line, and writes the PNG', async () => {
    const t = io(dataDir);
    expect(await runCli(['activations', 'create', '1001@acme.example', '--png', 'qr.png'], t.io)).toBe(0);
    const lines = t.out.join('').trimEnd().split('\n');
    expect(lines[0]).toBe(`wrote the QR image to ${join(dataDir, 'qr.png')}`);
    expect(lines[1]).toMatch(/^activation code for 1001@acme\.example, expires \d{4}-\d\d-\d\dT/);
    expect(lines[2]).toMatch(
      /^windows softphone link: ms-appinstaller:\?source=http:\/\/.*activationUri=scsc:\?username=1001@acme\.example%26password=/,
    );
    expect(lines.at(-1)).toMatch(QR_LINE);
    expect(await decodePng(join(dataDir, 'qr.png'))).toBe(lines.at(-1));
  }, 120_000);

  it('refuses unknown extensions and bad usage with one line', async () => {
    const unknown = io(dataDir);
    expect(await runCli(['activations', 'create', '9999@acme.example'], unknown.io)).toBe(1);
    expect(unknown.err).toEqual(['handset: no extension 9999@acme.example you may activate\n']);
    const usage = io(dataDir);
    expect(await runCli(['activations', 'create', '1001'], usage.io)).toBe(1);
    expect(usage.err.join('')).toMatch(/^handset: expected <ext>@<domain>/);
    const png = io(dataDir);
    expect(
      await runCli(['activations', 'create', '1001@acme.example', '--png', '/nonexistent-dir/x.png'], png.io),
    ).toBe(1);
    expect(png.err.join('')).toMatch(/^handset: cannot write \/nonexistent-dir\/x\.png/);
  }, 180_000);

  describe('through a running server', () => {
    let server: HandsetServer;
    beforeAll(async () => {
      const config = loadServerConfig({
        HANDSET_DATA_DIR: dataDir,
        HANDSET_BIND: '127.0.0.1',
        HANDSET_PUBLIC_HOST: '127.0.0.1',
        HANDSET_SIP_PORT: '0',
        HANDSET_HTTP_PORT: '0',
      });
      server = await startHandset(config, { logger: pino({ level: 'silent' }) });
    }, 120_000);
    afterAll(async () => {
      await server?.close();
    });

    it('issues a code that the SessionTalk endpoint of that server accepts', async () => {
      const run = await runHandset(['activations', 'create', '1001@acme.example'], { HANDSET_DATA_DIR: dataDir });
      expect(run.stderr).toBe('');
      const qr = run.stdout.trimEnd().split('\n').at(-1)!;
      expect(qr).toMatch(QR_LINE);
      const token = qr.split(':')[2]!;
      const url = `http://127.0.0.1:${server.httpPort}/app/sessiontalk/provision?username=1001@acme.example&password=${token}&reprovision=false&deviceId=cli-test-app`;
      const res = await fetch(url, { headers: { 'user-agent': 'SessionTalk/6.0.0' } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        update: true,
        sipaccounts: [{ sipusername: '1001', sippassword: 'pw-1001', subdomain: 'acme', transport: 'UDP' }],
      });
    }, 120_000);
  });
});
