import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TransportError } from '@handset/sip';
import { RecordingDelegate, rawClient, sipMessage, sleep, type RawClient } from '../test/recording-delegate.js';
import { TcpTransport } from './tcp-transport.js';
import type { ListenOptions } from './transport-options.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function listen(
  options: Partial<ListenOptions> = {},
): Promise<{ transport: TcpTransport; delegate: RecordingDelegate }> {
  const delegate = new RecordingDelegate();
  const transport = await TcpTransport.listen({ host: '127.0.0.1', port: 0, delegate, ...options });
  cleanups.push(() => transport.close());
  return { transport, delegate };
}

async function client(transport: TcpTransport): Promise<RawClient> {
  const c = await rawClient(transport.local.port, transport.local.address);
  cleanups.push(() => void c.socket.destroy());
  return c;
}

const write = (c: RawClient, data: string | Buffer): Promise<void> =>
  new Promise((resolve) => c.socket.write(data, () => resolve()));

describe('TcpTransport', () => {
  it.each(['127.0.0.1', '::1'])('delivers a message and answers over the same connection on %s', async (host) => {
    const { transport, delegate } = await listen({ host });
    const c = await client(transport);
    const request = sipMessage('REGISTER');
    await write(c, request);
    const [m] = await delegate.messagesArrived(1);
    expect(m!.text).toBe(request);
    expect(m!.flow).toMatchObject({
      protocol: 'tcp',
      reliable: true,
      remote: { address: host, port: c.socket.localPort },
      local: { address: host, port: transport.local.port },
    });
    const flow = await transport.send(Buffer.from('SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'), {
      protocol: 'tcp',
      address: host,
      port: c.socket.localPort!,
      flowId: m!.flow.id,
    });
    expect(flow.id).toBe(m!.flow.id);
    await c.receivedUntil((t) => t === 'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n');
  });

  it('frames messages written byte by byte and many messages in one write', async () => {
    const { transport, delegate } = await listen();
    const c = await client(transport);
    const first = sipMessage('MESSAGE', 'héllo ✓');
    for (const byte of Buffer.from(first)) {
      c.socket.write(Buffer.of(byte));
      await sleep(0);
    }
    await delegate.messagesArrived(1);
    const batch = [sipMessage('OPTIONS'), sipMessage('MESSAGE', '😀 body'), sipMessage('INFO', 'x'.repeat(3000))];
    await write(c, batch.join(''));
    await delegate.messagesArrived(4);
    expect(delegate.messages.map((m) => m.text)).toEqual([first, ...batch]);
    expect(new Set(delegate.messages.map((m) => m.flow.id)).size).toBe(1);
  });

  it('answers a CRLFCRLF keep-alive ping with a single CRLF and ignores a CRLF pong', async () => {
    const { transport, delegate } = await listen();
    const c = await client(transport);
    await write(c, '\r\n');
    await write(c, '\r\n\r\n');
    await c.receivedUntil((t) => t === '\r\n');
    await write(c, sipMessage('OPTIONS'));
    await delegate.messagesArrived(1);
    expect(c.received()).toBe('\r\n');
  });

  it('closes the connection on a framing error and reports the flow closed', async () => {
    const { transport, delegate } = await listen();
    const c = await client(transport);
    await write(c, sipMessage('OPTIONS'));
    const [m] = await delegate.messagesArrived(1);
    await write(c, 'OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n'); // no Content-Length
    await c.closed;
    await delegate.flowClosed(m!.flow.id);
    expect(transport.getFlow(m!.flow.id)).toBeUndefined();
  });

  it('closes a connection sending garbage or 1 MB without a blank line, and only that one', async () => {
    const { transport, delegate } = await listen();
    const good = await client(transport);
    const garbage = await client(transport);
    const junk = await client(transport);
    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i++) random[i] = (i * 7919) % 251;
    garbage.socket.write(Buffer.concat([random, Buffer.from('\r\n\r\n')]));
    junk.socket.write(Buffer.alloc(1024 * 1024, 'A'));
    await garbage.closed;
    await junk.closed;
    await write(good, sipMessage('OPTIONS'));
    await delegate.messagesArrived(1);
    expect(good.isClosed()).toBe(false);
  });

  it('closes a connection sending a message larger than maxMessageSize', async () => {
    const { transport, delegate } = await listen({ limits: { maxMessageSize: 2000 } });
    const c = await client(transport);
    await write(c, sipMessage('MESSAGE', 'y'.repeat(2500)));
    await c.closed;
    expect(delegate.messages).toEqual([]);
  });

  it('refuses connections beyond maxConnectionsPerIp and admits again after one closes', async () => {
    const { transport, delegate } = await listen({ limits: { maxConnectionsPerIp: 2 } });
    const a = await client(transport);
    const b = await client(transport);
    await write(a, sipMessage('OPTIONS'));
    await write(b, sipMessage('OPTIONS'));
    await delegate.messagesArrived(2);
    const c = await client(transport);
    await c.closed;
    expect(a.isClosed()).toBe(false);
    a.socket.destroy();
    await delegate.flowClosed(delegate.messages[0]!.flow.id);
    const d = await client(transport);
    await write(d, sipMessage('OPTIONS'));
    await delegate.messagesArrived(3);
    expect(d.isClosed()).toBe(false);
  });

  it('closes an idle unregistered connection and keeps a registered one', async () => {
    const { transport, delegate } = await listen({ limits: { idleTimeoutMs: 150 } });
    const idle = await client(transport);
    const registered = await client(transport);
    await write(idle, sipMessage('OPTIONS'));
    await write(registered, sipMessage('REGISTER'));
    await delegate.messagesArrived(2);
    const flowOf = (text: string) => delegate.messages.find((m) => m.text.startsWith(text))!.flow;
    transport.setFlowRegistered(flowOf('REGISTER').id, true);
    await idle.closed;
    await delegate.flowClosed(flowOf('OPTIONS').id);
    await sleep(300);
    expect(registered.isClosed()).toBe(false);
    expect(transport.getFlow(flowOf('REGISTER').id)).toBeDefined();

    transport.setFlowRegistered(flowOf('REGISTER').id, false);
    await registered.closed;
  });

  it('keeps an unregistered connection open while it has traffic', async () => {
    const { transport, delegate } = await listen({ limits: { idleTimeoutMs: 200 } });
    const c = await client(transport);
    for (let i = 0; i < 6; i++) {
      await write(c, sipMessage('OPTIONS'));
      await sleep(80);
    }
    await delegate.messagesArrived(6);
    expect(c.isClosed()).toBe(false);
  });

  it('opens an outbound connection, reuses it, and delivers what comes back on it', async () => {
    const server = await listen();
    const peer = await listen();
    const target = { protocol: 'tcp' as const, address: '127.0.0.1', port: peer.transport.local.port };
    const [f1, f2] = await Promise.all([
      server.transport.send(Buffer.from(sipMessage('OPTIONS')), target),
      server.transport.send(Buffer.from(sipMessage('INFO')), target),
    ]);
    expect(f1.id).toBe(f2.id);
    expect(f1.remote).toEqual({ address: '127.0.0.1', port: peer.transport.local.port });
    const [m] = await peer.delegate.messagesArrived(2);
    const response = 'SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n';
    await peer.transport.send(Buffer.from(response), { ...target, port: 0, flowId: m!.flow.id });
    const [back] = await server.delegate.messagesArrived(1);
    expect(back!.text).toBe(response);
    expect(back!.flow.id).toBe(f1.id);
    expect(server.transport.flowCount).toBe(1);
  });

  it('rejects a send to a closed port with a TransportError', async () => {
    const { transport } = await listen();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    await new Promise<void>((r) => blocker.close(() => r()));
    const sending = transport.send(Buffer.from(sipMessage('OPTIONS')), { protocol: 'tcp', address: '127.0.0.1', port });
    await expect(sending).rejects.toBeInstanceOf(TransportError);
  });

  it('falls back to the address when the flow id is gone', async () => {
    const server = await listen();
    const peer = await listen();
    const flow = await server.transport.send(Buffer.from(sipMessage('OPTIONS')), {
      protocol: 'tcp',
      address: '127.0.0.1',
      port: peer.transport.local.port,
      flowId: 'tcp:gone-1',
    });
    expect(flow.remote.port).toBe(peer.transport.local.port);
    await peer.delegate.messagesArrived(1);
  });

  it('survives a throwing delegate and closes every flow on close()', async () => {
    const closed: string[] = [];
    const transport = await TcpTransport.listen({
      host: '127.0.0.1',
      port: 0,
      delegate: {
        onMessage: () => {
          throw new Error('boom');
        },
        onFlowClosed: (f) => closed.push(f.id),
      },
    });
    const c = await rawClient(transport.local.port, '127.0.0.1');
    c.socket.write(sipMessage('OPTIONS') + sipMessage('OPTIONS'));
    await sleep(50);
    expect(c.isClosed()).toBe(false);
    await transport.close();
    await c.closed;
    await expect.poll(() => closed.length).toBe(1);
    await transport.close(); // idempotent
    await expect(
      transport.send(Buffer.from('x'), { protocol: 'tcp', address: '127.0.0.1', port: 1 }),
    ).rejects.toBeInstanceOf(TransportError);
  });
});
