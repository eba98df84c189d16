/** SIP over TLS and WSS with HANDSET_TLS=self-signed: the certificate is generated and both listeners answer. */
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort, startHandset, type HandsetProcess } from './support/handset.js';

let h: HandsetProcess;
let tlsPort: number;
let httpsPort: number;

beforeAll(async () => {
  tlsPort = await freePort();
  httpsPort = await freePort();
  h = await startHandset({
    HANDSET_TLS: 'self-signed',
    HANDSET_SIP_TLS_PORT: String(tlsPort),
    HANDSET_HTTPS_PORT: String(httpsPort),
  });
  await h.cli('domains', 'add', 'tls.example');
  await h.cli('users', 'add', '2001@tls.example', '--password', 'tls-secret');
});

afterAll(async () => {
  await h?.stop();
});

function request(method: string, transport: string, extra = ''): string {
  const branch = `z9hG4bK${Math.random().toString(36).slice(2)}`;
  return (
    `${method} sip:tls.example SIP/2.0\r\nVia: SIP/2.0/${transport} client.invalid;branch=${branch};rport\r\n` +
    `From: <sip:2001@tls.example>;tag=t1\r\nTo: <sip:2001@tls.example>\r\nCall-ID: ${branch}\r\n` +
    `CSeq: 1 ${method}\r\nMax-Forwards: 70\r\n${extra}Content-Length: 0\r\n\r\n`
  );
}

describe('SIP over TLS and WSS', () => {
  it('answers OPTIONS over TLS on HANDSET_SIP_TLS_PORT with the generated certificate', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false }, () => s.write(request('OPTIONS', 'TLS')));
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString();
        if (buf.includes('\r\n\r\n')) {
          const cert = s.getPeerCertificate();
          s.end();
          resolve(`${buf}\nCERT:${cert.subject ? 'yes' : 'no'}`);
        }
      });
      s.on('error', reject);
      setTimeout(() => reject(new Error('no answer over TLS')), 10_000);
    });
    expect(reply.split('\r\n')[0]).toBe('SIP/2.0 200 OK');
    expect(reply).toContain('CERT:yes');
  });

  it('challenges a REGISTER over WSS at /sip with the sip subprotocol echoed', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${httpsPort}/sip`, 'sip', { rejectUnauthorized: false });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send(request('REGISTER', 'WSS', 'Contact: <sip:2001@client.invalid;transport=ws>\r\n')));
      ws.on('message', (d: Buffer) => resolve(d.toString()));
      ws.on('error', reject);
      setTimeout(() => reject(new Error('no answer over WSS')), 10_000);
    });
    expect(ws.protocol).toBe('sip');
    ws.close();
    expect(reply.split('\r\n')[0]).toBe('SIP/2.0 401 Unauthorized');
    expect(reply).toMatch(/WWW-Authenticate: Digest realm="tls.example"/);
  });

  it('serves /healthz over HTTPS', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: httpsPort, rejectUnauthorized: false }, () =>
        s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      );
      let buf = '';
      s.on('data', (d: Buffer) => (buf += d.toString()));
      s.on('end', () => resolve(buf));
      s.on('error', reject);
    });
    expect(body).toMatch(/^HTTP\/1.1 200/);
    expect(body).toContain('"tls"');
  });
});
