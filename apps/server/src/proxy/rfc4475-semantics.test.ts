/**
 * RFC 4475 §3.3 application-layer torture messages sent to a running Handset over UDP: the
 * answers a registrar/proxy owes them once they have parsed.
 */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMessage, type SipResponse } from '@handset/sip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../config/server-config.js';
import { type HandsetServer, startHandset } from '../main.js';

const fixtures = fileURLToPath(new URL('../../../../packages/sip/test-fixtures/rfc4475/', import.meta.url));

let server: HandsetServer;
let dataDir: string;
let socket: Socket;
const inbox: Buffer[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'handset-4475-'));
  const config = loadServerConfig({
    HANDSET_DATA_DIR: dataDir,
    DATABASE_URL: 'memory://',
    HANDSET_BIND: '127.0.0.1',
    HANDSET_PUBLIC_HOST: '127.0.0.1',
    HANDSET_SIP_PORT: '0',
    HANDSET_HTTP_PORT: '0',
    HANDSET_LOG_LEVEL: 'silent',
  });
  server = await startHandset(config, { runFile: false });
  await server.directory.addDomain('example.com');
  await server.directory.addUser({ domain: 'example.com', ext: 'user', password: 'pw' });
  socket = createSocket('udp4');
  socket.on('message', (m) => inbox.push(m));
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
});

afterAll(async () => {
  socket?.close();
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** Sends a corpus message with its top Via pointed at our socket (so the answer comes back), returns the answer. */
async function exchange(name: string, waitMs = 1500): Promise<SipResponse | undefined> {
  const raw = (await readFile(join(fixtures, `${name}.dat`))).toString('latin1');
  const port = (socket.address() as { port: number }).port;
  const text = raw.replace(/^(Via|v):[^\r\n]*/im, `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK-${name}-${Date.now()};rport`);
  inbox.length = 0;
  socket.send(Buffer.from(text, 'latin1'), server.sipPorts.udp, '127.0.0.1');
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const final = inbox.map((b) => parseMessage(b) as SipResponse).find((r) => r.status >= 200);
    if (final) return final;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

describe('RFC 4475 application-layer answers', () => {
  it('§3.3.1 unkscm: an unknown Request-URI scheme gets 416', async () => {
    expect((await exchange('unkscm'))?.status).toBe(416);
  });

  it('§3.3.2 novelsc: a novel scheme in the Request-URI gets 416', async () => {
    expect((await exchange('novelsc'))?.status).toBe(416);
  });

  it('§3.3.3 unksm2: a REGISTER whose To is not a SIP URI is refused with 400', async () => {
    expect((await exchange('unksm2'))?.status).toBe(400);
  });

  it('§3.3.4 bext01: unknown Proxy-Require options get 420 listing them in Unsupported', async () => {
    const res = await exchange('bext01');
    expect(res?.status).toBe(420);
    expect(res?.getHeader('unsupported')?.toLowerCase()).toContain('noproxiessupportthis');
  });

  it('§3.3.7 regaut01: an Authorization in an unknown scheme gets a fresh Digest challenge', async () => {
    const res = await exchange('regaut01');
    expect(res?.status).toBe(401);
    expect(res?.getHeader('www-authenticate')).toMatch(/^Digest /);
  });

  it('§3.3.9 zeromf: Max-Forwards 0 to a user gets 483', async () => {
    expect((await exchange('zeromf'))?.status).toBe(483);
  });

  it('§3.3.8 bcast: a response naming a broadcast address is dropped, and the server keeps answering', async () => {
    expect(await exchange('bcast', 500)).toBeUndefined();
    expect((await exchange('zeromf'))?.status).toBe(483);
  });
});
