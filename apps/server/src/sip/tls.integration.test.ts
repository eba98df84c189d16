/**
 * TLS on a whole Handset: the certificate is reloaded on SIGHUP without a restart (SIP/TLS and
 * HTTPS alike), and a domain with `sip.tls_only` refuses REGISTERs over plain transports while
 * TLS works.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { computeAuthorization, parseMessage, type SipResponse, StreamFramer } from '@handset/sip';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_PRINCIPAL } from '../directory/principal.js';
import { eventually, TestHandset } from './testing/test-handset.js';

const DOMAIN = 'tls-only.test';
const PASSWORD = 'tls-secret-1';

async function pair(): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  return { cert: pems.cert, key: pems.private };
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to `port` is shown. */
function seenFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
    s.once('secureConnect', () => {
      resolve(s.getPeerX509Certificate()?.fingerprint256 ?? '');
      s.destroy();
    });
    s.once('error', reject);
  });
}

/** A minimal SIP client over one TLS connection: sends a request text, resolves with the next response. */
async function tlsClient(port: number): Promise<{ ask(text: string): Promise<SipResponse>; socket: TLSSocket }> {
  const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false });
  await new Promise((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  const waiting: Array<(r: SipResponse) => void> = [];
  const framer = new StreamFramer({
    onMessage: (m) => waiting.shift()?.(parseMessage(Buffer.from(m), { stream: true }) as SipResponse),
    onPing: () => {},
    onError: () => socket.destroy(),
  });
  socket.on('data', (d: Buffer) => framer.push(d));
  return {
    socket,
    ask: (text) =>
      new Promise((resolve) => {
        waiting.push(resolve);
        socket.write(text);
      }),
  };
}

describe('TLS on a running Handset', () => {
  let h: TestHandset;
  let dir: string;
  let certPath: string;
  let keyPath: string;
  let first: { cert: string; key: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'handset-tls-'));
    certPath = join(dir, 'cert.pem');
    keyPath = join(dir, 'key.pem');
    first = await pair();
    await writeFile(certPath, first.cert);
    await writeFile(keyPath, first.key);
    h = await TestHandset.start({
      env: { HANDSET_TLS_CERT: certPath, HANDSET_TLS_KEY: keyPath, HANDSET_SIP_TLS_PORT: '0', HANDSET_HTTPS_PORT: '0' },
    });
    await h.provision(DOMAIN, { '100': PASSWORD });
    const id = await h.server.services.domains.idOf(CLI_PRINCIPAL, DOMAIN);
    await h.server.services.settings.set(CLI_PRINCIPAL, 'sip.tls_only', true, id);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reloads the certificate on SIGHUP: new SIP/TLS and HTTPS connections see the renewed one', async () => {
    const sipTls = h.server.sipPorts.tls!;
    const https = h.server.httpsPort!;
    const old = new X509Certificate(first.cert).fingerprint256;
    expect(await seenFingerprint(sipTls)).toBe(old);
    expect(await seenFingerprint(https)).toBe(old);
    const renewed = await pair();
    await writeFile(keyPath, renewed.key);
    await writeFile(certPath, renewed.cert);
    process.emit('SIGHUP', 'SIGHUP');
    const fresh = new X509Certificate(renewed.cert).fingerprint256;
    await eventually(
      async () => (await seenFingerprint(sipTls)) === fresh,
      5000,
      'SIP/TLS shows the renewed certificate',
    );
    expect(await seenFingerprint(https)).toBe(fresh);
    // A broken pair on disk is refused and the renewed one stays in use.
    await writeFile(certPath, 'garbage');
    expect(await h.server.reloadTls()).toBe(false);
    expect(await seenFingerprint(sipTls)).toBe(fresh);
    await writeFile(certPath, renewed.cert);
  });

  it('a sip.tls_only domain refuses REGISTER over UDP, TCP and WS with 403, and registers over TLS', async () => {
    for (const transport of ['udp', 'tcp', 'ws'] as const) {
      const u = await h.ua(transport, '100', DOMAIN, PASSWORD);
      const res = await u.register({ expires: 300 });
      expect(res.status, transport).toBe(403);
      expect(res.reason).toMatch(/TLS/);
      u.close();
    }
    expect(h.server.location.lookup(`100@${DOMAIN}`)).toEqual([]);
    const c = await tlsClient(h.server.sipPorts.tls!);
    const request = (cseq: number, auth = '') =>
      `REGISTER sip:${DOMAIN} SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bKtls${cseq}\r\n` +
      `Max-Forwards: 70\r\nFrom: <sip:100@${DOMAIN}>;tag=t\r\nTo: <sip:100@${DOMAIN}>\r\nCall-ID: tls-only-1\r\n` +
      `CSeq: ${cseq} REGISTER\r\nContact: <sip:100@127.0.0.1:5061;transport=tls>\r\nExpires: 300\r\n${auth}` +
      `Content-Length: 0\r\n\r\n`;
    const challenge = await c.ask(request(1));
    expect(challenge.status).toBe(401);
    const authorization = computeAuthorization(challenge.getHeaders('www-authenticate')[0]!, {
      username: '100',
      password: PASSWORD,
      method: 'REGISTER',
      uri: `sip:${DOMAIN}`,
    });
    expect((await c.ask(request(2, `Authorization: ${authorization}\r\n`))).status).toBe(200);
    expect(h.server.location.lookup(`100@${DOMAIN}`)).toHaveLength(1);
    c.socket.destroy();
  });
});
