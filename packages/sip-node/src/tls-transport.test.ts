import { X509Certificate } from 'node:crypto';
import { connect, type ConnectionOptions } from 'node:tls';
import { generate } from 'selfsigned';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TransportError } from '@handset/sip';
import { RecordingDelegate, rawClient, sipMessage } from '../test/recording-delegate.js';
import { TlsTransport } from './tls-transport.js';

let cert = '';
let key = '';
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  cert = pems.cert;
  key = pems.private;
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function newPair(): Promise<{ cert: string; key: string }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  return { cert: pems.cert, key: pems.private };
}

/** The certificate a TLS client sees, or the handshake error. */
function handshake(
  port: number,
  options: ConnectionOptions = {},
): Promise<{ fingerprint: string; protocol: string | null } | Error> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    socket.once('secureConnect', () => {
      resolve({ fingerprint: socket.getPeerX509Certificate()?.fingerprint256 ?? '', protocol: socket.getProtocol() });
      socket.destroy();
    });
    socket.once('error', (err: Error) => resolve(err));
  });
}

async function listen(host = '127.0.0.1', extra: { rejectUnauthorized?: boolean } = {}) {
  const delegate = new RecordingDelegate();
  const transport = await TlsTransport.listen({ host, port: 0, delegate, cert, key, ca: cert, ...extra });
  cleanups.push(() => transport.close());
  return { transport, delegate };
}

describe('TlsTransport', () => {
  it.each(['127.0.0.1', '::1'])('frames messages over TLS and answers on the same connection on %s', async (host) => {
    const { transport, delegate } = await listen(host);
    const socket = connect({ host, port: transport.local.port, ca: cert });
    const c = await rawClient(0, host, socket);
    cleanups.push(() => void socket.destroy());
    const a = sipMessage('REGISTER');
    const b = sipMessage('MESSAGE', 'ünïcödé');
    socket.write(a.slice(0, 10));
    socket.write(a.slice(10) + b + '\r\n\r\n');
    await delegate.messagesArrived(2);
    expect(delegate.messages.map((m) => m.text)).toEqual([a, b]);
    const flow = delegate.messages[0]!.flow;
    expect(flow).toMatchObject({ protocol: 'tls', reliable: true, remote: { address: host } });
    await c.receivedUntil((t) => t === '\r\n'); // keep-alive pong
    await transport.send(Buffer.from('SIP/2.0 200 OK\r\nl: 0\r\n\r\n'), {
      protocol: 'tls',
      address: host,
      port: 1,
      flowId: flow.id,
    });
    await c.receivedUntil((t) => t.endsWith('SIP/2.0 200 OK\r\nl: 0\r\n\r\n'));
  });

  it('opens a verified outbound TLS connection and receives on it', async () => {
    const server = await listen();
    const peer = await listen();
    const flow = await server.transport.send(Buffer.from(sipMessage('OPTIONS')), {
      protocol: 'tls',
      address: '127.0.0.1',
      port: peer.transport.local.port,
    });
    expect(flow.protocol).toBe('tls');
    const [m] = await peer.delegate.messagesArrived(1);
    await peer.transport.send(Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'), {
      protocol: 'tls',
      address: '127.0.0.1',
      port: 1,
      flowId: m!.flow.id,
    });
    const [back] = await server.delegate.messagesArrived(1);
    expect(back!.flow.id).toBe(flow.id);
  });

  it('rejects an outbound connection to a peer whose certificate is not trusted', async () => {
    const peer = await listen();
    const delegate = new RecordingDelegate();
    const strict = await TlsTransport.listen({ host: '127.0.0.1', port: 0, delegate, cert, key });
    cleanups.push(() => strict.close());
    await expect(
      strict.send(Buffer.from(sipMessage('OPTIONS')), {
        protocol: 'tls',
        address: '127.0.0.1',
        port: peer.transport.local.port,
      }),
    ).rejects.toBeInstanceOf(TransportError);
    expect(peer.delegate.messages).toEqual([]);
  });

  it('survives a client that speaks plain text to the TLS port', async () => {
    const { transport, delegate } = await listen();
    const plain = await rawClient(transport.local.port, '127.0.0.1');
    plain.socket.write(sipMessage('OPTIONS'));
    await plain.closed;
    const socket = connect({ host: '127.0.0.1', port: transport.local.port, ca: cert });
    cleanups.push(() => void socket.destroy());
    await rawClient(0, '127.0.0.1', socket);
    socket.write(sipMessage('OPTIONS'));
    await delegate.messagesArrived(1);
  });

  it('speaks TLS 1.2 and 1.3 only, with forward-secret AEAD ciphers on 1.2', async () => {
    const { transport } = await listen();
    const port = transport.local.port;
    expect(await handshake(port, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' })).toBeInstanceOf(Error);
    expect(await handshake(port, { maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:AES256-SHA' })).toBeInstanceOf(Error);
    expect(await handshake(port, { maxVersion: 'TLSv1.2' })).toMatchObject({ protocol: 'TLSv1.2' });
    expect(await handshake(port)).toMatchObject({ protocol: 'TLSv1.3' });
  });

  it('presents a new certificate to new connections after setCertificate; an open connection keeps working', async () => {
    const { transport, delegate } = await listen();
    const port = transport.local.port;
    const before = await handshake(port);
    const open = connect({ host: '127.0.0.1', port, ca: cert });
    cleanups.push(() => void open.destroy());
    await new Promise((resolve) => open.once('secureConnect', resolve));
    const renewed = await newPair();
    transport.setCertificate(renewed.cert, renewed.key);
    const after = await handshake(port);
    expect(after).not.toBeInstanceOf(Error);
    expect((after as { fingerprint: string }).fingerprint).not.toBe((before as { fingerprint: string }).fingerprint);
    expect((after as { fingerprint: string }).fingerprint).toBe(new X509Certificate(renewed.cert).fingerprint256);
    open.write(sipMessage('OPTIONS'));
    await delegate.messagesArrived(1);
    expect(() => transport.setCertificate('not a certificate', 'not a key')).toThrow();
  });
});
