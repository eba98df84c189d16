import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessIo } from './cli-test-helpers.js';
import { runCli } from './run-cli.js';

// The commands without a running server: each opens the embedded database itself.
describe('handset devices and settings (no server running)', () => {
  let dataDir: string;
  const run = async (...argv: string[]) => {
    const t = inProcessIo({ HANDSET_DATA_DIR: dataDir }, dataDir);
    const code = await runCli(argv, t.io);
    return { code, out: t.out.join(''), err: t.err.join('') };
  };
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'handset-devices-'));
    expect((await run('domains', 'add', 'acme.example')).code).toBe(0);
    expect((await run('users', 'add', '1001@acme.example', '--password', 'pw-1001')).code).toBe(0);
    expect((await run('users', 'add', '1002@acme.example', '--password', 'pw-1002')).code).toBe(0);
  }, 180_000);
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('adds a phone by MAC in any notation with two lines, lists it, and says resync needs the server', async () => {
    const add = await run(
      'devices',
      'add',
      '80-5E-C0-12-34-56',
      '--vendor',
      'Yealink',
      '--model',
      'T46S',
      '--line',
      '1:1001@acme.example',
      '--line',
      '2:1002@acme.example',
    );
    expect(add, add.err).toMatchObject({ code: 0 });
    expect(add.out).toContain('added yealink 805ec0123456 to acme.example (lines 1:1001, 2:1002)');
    expect(add.out).toMatch(/secret url: \/prov\/[A-Za-z0-9_-]{20,}\/805ec0123456\.cfg/);
    const again = await run('devices', 'add', '805ec0123456', '--vendor', 'yealink', '--line', '1:1001@acme.example');
    expect(again.code).toBe(1);
    expect(again.err).toContain('exists already');
    const list = JSON.parse((await run('devices', 'list', '--domain', 'acme.example', '--json')).out) as Array<{
      mac: string;
      model: string;
      lines: unknown[];
    }>;
    expect(list).toEqual([
      expect.objectContaining({
        mac: '805ec0123456',
        model: 'T46S',
        lines: [expect.objectContaining({ line: 1, ext: '1001' }), expect.objectContaining({ line: 2, ext: '1002' })],
      }),
    ]);
    const resync = await run('devices', 'resync', '80:5e:c0:12:34:56');
    expect(resync.out).toBe('the server is not running: no check-sync sent to 805ec0123456\n');
  }, 120_000);

  it('refuses bad input with one clear line', async () => {
    expect(
      (await run('devices', 'add', '805ec0123457', '--vendor', 'nokia', '--line', '1:1001@acme.example')).err,
    ).toMatch(/^handset: vendor: /);
    expect((await run('devices', 'add', 'not-a-mac', '--vendor', 'yealink')).err).toMatch(/mac: not a MAC address/);
    expect((await run('devices', 'add', '805ec0123457', '--vendor', 'yealink', '--line', 'one')).err).toMatch(
      /--line expects/,
    );
    expect(
      (await run('devices', 'add', '805ec0123457', '--vendor', 'yealink', '--line', '1:9999@acme.example')).err,
    ).toMatch(/no extension 9999/);
  }, 120_000);

  it('sets, gets and lists settings per domain and server-wide', async () => {
    expect(
      (await run('settings', 'set', 'provisioning.timezone', 'Europe/Berlin', '--domain', 'acme.example')).out,
    ).toBe('provisioning.timezone = Europe/Berlin (domain, acme.example)\n');
    expect((await run('settings', 'get', 'provisioning.timezone')).out).toBe('provisioning.timezone = UTC (default)\n');
    expect((await run('settings', 'set', 'provisioning.codecs', 'PCMA,G722')).code).toBe(0);
    expect((await run('settings', 'get', 'provisioning.codecs', '--domain', 'acme.example')).out).toBe(
      'provisioning.codecs = ["PCMA","G722"] (server, acme.example)\n',
    );
    const bad = await run('settings', 'set', 'provisioning.timezone', 'Mars/Olympus', '--domain', 'acme.example');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('IANA time zone');
    expect((await run('settings', 'get', 'no.such_key')).err).toContain('unknown setting');
    const list = await run('settings', 'list', '--domain', 'acme.example');
    expect(list.out).toMatch(/provisioning\.timezone\s+Europe\/Berlin\s+domain/);
    expect(list.out).toMatch(/sessiontalk\.max_activations\s+1\s+default/);
    expect((await run('settings', 'set', 'provisioning.timezone', 'null', '--domain', 'acme.example')).out).toContain(
      '(default',
    );
  }, 180_000);
});
