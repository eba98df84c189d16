import { createServer, type Server } from 'node:http';
import { generate } from 'selfsigned';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { TransportError } from '@handset/sip';
import { RecordingDelegate, rawClient, sipMessage, sleep } from '../test/recording-delegate.js';
import type { TransportLimits } from './transport-options.js';
import { WsTransport } from './ws-transport.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listen(limits: Partial<TransportLimits> = {}, host = '127.0.0.1') {
  const delegate = new RecordingDelegate();
  const transport = await WsTransport.listen({ host, port: 0, delegate, limits });
  cleanups.push(() => transport.close());
  const base = `ws://${host.includes(':') ? `[${host}]` : host}:${transport.local.port}`;
  return { transport, delegate, url: `${base}/sip`, base };
}

interface Client {
  ws: WebSocket;
  frames: { text: string; binary: boolean }[];
  closed: Promise<number>;
}

function open(url: string, protocols: string[] = ['sip'], options: object = {}): Promise<Client> {
  const ws = new WebSocket(url, protocols, options);
  const frames: { text: string; binary: boolean }[] = [];
  ws.on('message', (data: Buffer, binary: boolean) => frames.push({ text: data.toString('utf8'), binary }));
  ws.on('error', () => {});
  const closed = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
  cleanups.push(() => ws.terminate());
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, frames, closed }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

describe('WsTransport', () => {
  it.each(['127.0.0.1', '::1'])('echoes the sip subprotocol and carries text and binary frames on %s', async (host) => {
    const { transport, delegate, url } = await listen({}, host);
    expect(transport.protocol).toBe('ws');
    const c = await open(url, ['chat', 'sip']);
    expect(c.ws.protocol).toBe('sip');
    const text = sipMessage('REGISTER');
    const binary = sipMessage('MESSAGE', 'ünïcödé ✓');
    c.ws.send(text);
    c.ws.send(Buffer.from(binary), { binary: true });
    await delegate.messagesArrived(2);
    expect(delegate.messages.map((m) => m.text)).toEqual([text, binary]);
    const flow = delegate.messages[0]!.flow;
    expect(delegate.messages[1]!.flow.id).toBe(flow.id);
    expect(flow).toMatchObject({
      protocol: 'ws',
      reliable: true,
      remote: { address: host },
      local: { port: transport.local.port },
    });

    await transport.send(Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'), {
      protocol: 'ws',
      address: host,
      port: 1,
      flowId: flow.id,
    });
    await transport.send(Buffer.from([0xff, 0xfe, 0x00]), { protocol: 'ws', address: host, port: 1, flowId: flow.id });
    await expect.poll(() => c.frames.length).toBe(2);
    expect(c.frames[0]).toEqual({ text: 'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n', binary: false });
    expect(c.frames[1]!.binary).toBe(true);
  });

  it.each([[[]], [['chat']]])('refuses a WebSocket that does not offer sip (%j) with HTTP 400', async (protocols) => {
    const { url, transport } = await listen();
    await expect(open(url, protocols)).rejects.toThrow('HTTP 400');
    expect(transport.flowCount).toBe(0);
  });

  it('answers a CRLFCRLF keep-alive with CRLF and ignores a lone CRLF', async () => {
    const { delegate, url } = await listen();
    const c = await open(url);
    c.ws.send('\r\n');
    c.ws.send('\r\n\r\n');
    c.ws.send(sipMessage('OPTIONS'));
    await delegate.messagesArrived(1);
    await expect.poll(() => c.frames.length).toBe(1);
    expect(c.frames).toEqual([{ text: '\r\n', binary: false }]);
    expect(delegate.messages).toHaveLength(1);
  });

  it('rejects a send over a closed flow, or with no flow, with a TransportError', async () => {
    const { transport, delegate, url } = await listen();
    const c = await open(url);
    c.ws.send(sipMessage('REGISTER'));
    const [m] = await delegate.messagesArrived(1);
    c.ws.close();
    await delegate.flowClosed(m!.flow.id);
    expect(transport.getFlow(m!.flow.id)).toBeUndefined();
    const target = { protocol: 'ws' as const, address: '127.0.0.1', port: c.ws.url.length };
    await expect(transport.send(Buffer.from('x'), { ...target, flowId: m!.flow.id })).rejects.toBeInstanceOf(
      TransportError,
    );
    await expect(transport.send(Buffer.from('x'), target)).rejects.toBeInstanceOf(TransportError);
  });

  it('closes a WebSocket that sends a message larger than maxMessageSize', async () => {
    const { delegate, url } = await listen({ maxMessageSize: 1000 });
    const c = await open(url);
    c.ws.send(sipMessage('MESSAGE', 'z'.repeat(2000)));
    expect(await c.closed).toBe(1009);
    expect(delegate.messages).toEqual([]);
  });

  it('closes a WebSocket that sends junk frames, and only that one', async () => {
    const { delegate, url, transport } = await listen();
    const good = await open(url);
    const raw = await rawClient(transport.local.port, '127.0.0.1');
    cleanups.push(() => void raw.socket.destroy());
    raw.socket.write(
      'GET /sip HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n',
    );
    await raw.receivedUntil((t) => t.includes('\r\n\r\n'));
    expect(raw.received()).toMatch(/^HTTP\/1\.1 101[^]*Sec-WebSocket-Protocol: sip\r\n/i);
    raw.socket.write(Buffer.alloc(1024 * 1024, 0x42));
    await raw.closed;
    good.ws.send(sipMessage('OPTIONS'));
    await delegate.messagesArrived(1);
    expect(good.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('refuses connections beyond maxConnectionsPerIp with 503', async () => {
    const { url } = await listen({ maxConnectionsPerIp: 1 });
    const first = await open(url);
    await expect(open(url)).rejects.toThrow('HTTP 503');
    first.ws.close();
    await first.closed;
    await sleep(20);
    await open(url);
  });

  it('closes an idle unregistered WebSocket and keeps a registered one', async () => {
    const { transport, delegate, url } = await listen({ idleTimeoutMs: 150 });
    const idle = await open(url);
    const kept = await open(url);
    idle.ws.send(sipMessage('OPTIONS'));
    kept.ws.send(sipMessage('REGISTER'));
    await delegate.messagesArrived(2);
    transport.setFlowRegistered(delegate.messages.find((m) => m.text.startsWith('REGISTER'))!.flow.id, true);
    await idle.closed;
    await sleep(300);
    expect(kept.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('attaches to an existing HTTP server at its path and leaves the server running on close', async () => {
    const server: Server = createServer((_req, res) => res.end('hello'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const delegate = new RecordingDelegate();
    const transport = WsTransport.attach({ server, path: '/ws-sip', delegate });
    const port = transport.local.port;
    const c = await open(`ws://127.0.0.1:${port}/ws-sip?token=1`);
    c.ws.send(sipMessage('OPTIONS'));
    await delegate.messagesArrived(1);
    await expect(open(`ws://127.0.0.1:${port}/other`)).rejects.toThrow('HTTP 404');
    await transport.close();
    expect(await c.closed).toBe(1006);
    const res = await fetch(`http://127.0.0.1:${port}/`);
    expect(await res.text()).toBe('hello');
  });

  it('serves WSS with a certificate and reports protocol wss', async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const delegate = new RecordingDelegate();
    const transport = await WsTransport.listen({
      host: '127.0.0.1',
      port: 0,
      delegate,
      cert: pems.cert,
      key: pems.private,
    });
    cleanups.push(() => transport.close());
    expect(transport.protocol).toBe('wss');
    const c = await open(`wss://127.0.0.1:${transport.local.port}/sip`, ['sip'], { ca: pems.cert });
    c.ws.send(sipMessage('REGISTER'));
    const [m] = await delegate.messagesArrived(1);
    expect(m!.flow.protocol).toBe('wss');
  });
});
