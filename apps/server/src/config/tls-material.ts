import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isIP } from 'node:net';
import { ConfigError } from './config-error.js';
import type { ServerConfig } from './server-config.js';

/** PEM certificate chain and private key for the TLS/HTTPS listeners. */
export interface TlsMaterial {
  cert: string;
  key: string;
}

/**
 * Reads the TLS certificate and key, or undefined when TLS is off. With HANDSET_TLS=self-signed
 * the pair is generated into `<dataDir>/tls/` on first start (10 years, names the public host,
 * localhost and 127.0.0.1) and reused afterwards.
 */
export async function loadTlsMaterial(
  config: Pick<ServerConfig, 'tls' | 'publicHost'>,
  now: () => Date = () => new Date(),
): Promise<TlsMaterial | undefined> {
  const tls = config.tls;
  if (!tls) return undefined;
  const existing = await readPair(tls.certPath, tls.keyPath, tls.source === 'self-signed');
  if (existing) return existing;
  // Only the self-signed source reaches here (readPair throws for missing operator files).
  const notBefore = now();
  const notAfter = new Date(notBefore);
  notAfter.setFullYear(notAfter.getFullYear() + 10);
  const hosts = new Set([config.publicHost, 'localhost', '127.0.0.1', '::1']);
  const altNames = [...hosts].map((h) => (isIP(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h }));
  // Loaded only when a certificate is generated (once per data directory).
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: config.publicHost }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  await mkdir(dirname(tls.keyPath), { recursive: true, mode: 0o700 });
  // Key first, cert last: the cert's presence marks a complete pair. Renames keep each file whole.
  await atomicWrite(tls.keyPath, pems.private, 0o600);
  await atomicWrite(tls.certPath, pems.cert, 0o644);
  return { cert: pems.cert, key: pems.private };
}

async function atomicWrite(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

async function readPair(certPath: string, keyPath: string, mayBeMissing: boolean): Promise<TlsMaterial | undefined> {
  try {
    const cert = await readFile(certPath, 'utf8');
    const key = await readFile(keyPath, 'utf8');
    checkPem(certPath, () => new X509Certificate(cert), 'a PEM certificate');
    checkPem(keyPath, () => createPrivateKey(key), 'a PEM private key');
    return { cert, key };
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if (mayBeMissing && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    const which = (err as NodeJS.ErrnoException).path ?? certPath;
    throw new ConfigError('TLS_MATERIAL', `cannot read TLS file ${which}: ${(err as Error).message}`, { cause: err });
  }
}

function checkPem(path: string, parse: () => unknown, what: string): void {
  try {
    parse();
  } catch (err) {
    throw new ConfigError('TLS_MATERIAL', `${path} is not ${what}`, { cause: err });
  }
}
