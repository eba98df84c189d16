import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { loadTlsMaterial } from './tls-material.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'handset-tls-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const selfSigned = () => ({
  publicHost: 'sip.example.test',
  tls: { source: 'self-signed' as const, certPath: join(dir, 'tls', 'cert.pem'), keyPath: join(dir, 'tls', 'key.pem') },
});

describe('loadTlsMaterial', () => {
  it('is undefined when TLS is off', async () => {
    expect(await loadTlsMaterial({ publicHost: 'x', tls: undefined })).toBeUndefined();
  });

  it('generates a self-signed pair naming the public host and reuses it on the next start', async () => {
    const first = await loadTlsMaterial(selfSigned());
    const cert = new X509Certificate(first!.cert);
    expect(cert.subjectAltName).toContain('DNS:sip.example.test');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.checkPrivateKey(createPrivateKey(first!.key))).toBe(true);
    expect((await stat(join(dir, 'tls', 'key.pem'))).mode & 0o777).toBe(0o600);

    const second = await loadTlsMaterial(selfSigned());
    expect(second).toEqual(first);
    expect(await readFile(join(dir, 'tls', 'cert.pem'), 'utf8')).toBe(first!.cert);
  });

  it('reports a missing operator certificate by path', async () => {
    const certPath = join(dir, 'missing.pem');
    const err = await loadTlsMaterial({ publicHost: 'x', tls: { source: 'files', certPath, keyPath: certPath } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(certPath);
  });

  it('reports a file that is not a certificate', async () => {
    const certPath = join(dir, 'cert.pem');
    const keyPath = join(dir, 'key.pem');
    await writeFile(certPath, 'garbage');
    await writeFile(keyPath, 'garbage');
    const err = await loadTlsMaterial({ publicHost: 'x', tls: { source: 'files', certPath, keyPath } }).catch(
      (e: unknown) => e,
    );
    expect((err as ConfigError).code).toBe('TLS_MATERIAL');
    expect((err as ConfigError).message).toContain(certPath);
  });
});
