import { spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingDelegate, sipMessage, sleep } from '../test/recording-delegate.js';
import { nativeUdpIo } from './udp-io-thread.js';
import { UdpTransport, type UdpListenOptions } from './udp-transport.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function udpClient(host: string): Promise<{ socket: Socket; port: number; next: () => Promise<string> }> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  const queue: string[] = [];
  const waiting: ((s: string) => void)[] = [];
  socket.on('message', (msg) => {
    const w = waiting.shift();
    if (w) w(msg.toString());
    else queue.push(msg.toString());
  });
  await new Promise<void>((r) => socket.bind(0, host, r));
  cleanups.push(() => void socket.close());
  return {
    socket,
    port: socket.address().port,
    next: () => {
      const q = queue.shift();
      return q !== undefined ? Promise.resolve(q) : new Promise((r) => waiting.push(r));
    },
  };
}

const nativeBuilt = nativeUdpIo() !== undefined;

describe('the native UDP I/O thread', () => {
  // Where it can be built (Linux, a C compiler, Node's headers: `npm run build` builds it), it must
  // be, or the native suite below would be skipped unseen.
  const canBuild = process.platform === 'linux' && spawnSync('cc', ['--version']).status === 0;
  it.skipIf(!canBuild)('is built and loads here', () => {
    expect(nativeBuilt).toBe(true);
  });
});

const modes = [
  { mode: 'on the event loop', ioThread: false, ioNative: false, kind: 'inline' },
  { mode: 'served by a dgram worker thread', ioThread: true, ioNative: false, kind: 'worker' },
  { mode: 'served by the native I/O thread', ioThread: true, ioNative: true, kind: 'native' },
] as const;

/** The native mode only where it is built (the test above says whether it should be). */
const suites = modes.filter((m) => m.kind !== 'native' || nativeBuilt);

describe.each(suites)('UdpTransport $mode', ({ ioThread, ioNative, kind }) => {
  /** A transport on 127.0.0.1 (unless told otherwise), closed after the test. */
  async function listen(options: Partial<UdpListenOptions> = {}): Promise<UdpTransport> {
    const transport = await UdpTransport.listen({
      host: '127.0.0.1',
      port: 0,
      delegate: new RecordingDelegate(),
      ioThread,
      ioNative,
      ...options,
    });
    cleanups.push(() => transport.close());
    return transport;
  }

  it('is served as asked', async () => {
    expect((await listen()).ioKind).toBe(kind);
  });

  it('sends to a host name as well as to an address literal', async () => {
    const transport = await listen();
    const client = await udpClient('127.0.0.1');
    const byName = await transport.send(Buffer.from('by name'), {
      protocol: 'udp',
      address: 'localhost',
      port: client.port,
    });
    expect(await client.next()).toBe('by name');
    expect(byName.remote).toEqual({ address: 'localhost', port: client.port });
    await transport.send(Buffer.from('by address'), { protocol: 'udp', address: '127.0.0.1', port: client.port });
    expect(await client.next()).toBe('by address');
  });

  it.each(['127.0.0.1', '::1'])('delivers a datagram with its flow and answers over that flow on %s', async (host) => {
    const delegate = new RecordingDelegate();
    const transport = await listen({ host, delegate });
    expect(transport.local.port).toBeGreaterThan(0);
    expect(transport.local.address).toBe(host);

    const client = await udpClient(host);
    const request = sipMessage('OPTIONS');
    client.socket.send(request, transport.local.port, host);
    const [received] = await delegate.messagesArrived(1);
    expect(received?.text).toBe(request);
    const flow = received!.flow;
    expect(flow).toMatchObject({
      protocol: 'udp',
      reliable: false,
      remote: { address: host, port: client.port },
      local: { port: transport.local.port },
    });
    expect(flow.id).toContain(String(client.port));
    expect(transport.getFlow(flow.id)).toEqual(flow);

    const sent = await transport.send(Buffer.from('SIP/2.0 200 OK\r\n\r\n'), {
      protocol: 'udp',
      address: '192.0.2.99', // ignored: the flow wins
      port: 9,
      flowId: flow.id,
    });
    expect(sent.id).toBe(flow.id);
    expect(await client.next()).toBe('SIP/2.0 200 OK\r\n\r\n');
  });

  it('sends to an address when no flow is given', async () => {
    const transport = await listen();
    const client = await udpClient('127.0.0.1');
    const flow = await transport.send(Buffer.from('hello'), {
      protocol: 'udp',
      address: '127.0.0.1',
      port: client.port,
    });
    expect(flow.remote).toEqual({ address: '127.0.0.1', port: client.port });
    expect(await client.next()).toBe('hello');
  });

  it('flow ids of different peers differ and name both ends', async () => {
    const delegate = new RecordingDelegate();
    const transport = await listen({ delegate });
    const a = await udpClient('127.0.0.1');
    const b = await udpClient('127.0.0.1');
    a.socket.send(sipMessage('OPTIONS'), transport.local.port, '127.0.0.1');
    b.socket.send(sipMessage('OPTIONS'), transport.local.port, '127.0.0.1');
    const [m1, m2] = await delegate.messagesArrived(2);
    expect(m1!.flow.id).not.toBe(m2!.flow.id);
    expect(m1!.flow.id).toMatch(new RegExp(`^udp:127\\.0\\.0\\.1:${transport.local.port}>127\\.0\\.0\\.1:\\d+$`));
    expect(transport.getFlow('tcp:nope')).toBeUndefined();
    expect(transport.getFlow(`udp:127.0.0.1:${transport.local.port}>garbage`)).toBeUndefined();
  });

  it('drops datagrams larger than maxMessageSize and bare CRLF keep-alives', async () => {
    const delegate = new RecordingDelegate();
    const transport = await listen({
      delegate,
      limits: { maxMessageSize: 1000 },
    });
    const client = await udpClient('127.0.0.1');
    client.socket.send(sipMessage('MESSAGE', 'x'.repeat(1200)), transport.local.port, '127.0.0.1');
    client.socket.send('\r\n\r\n', transport.local.port, '127.0.0.1');
    const small = sipMessage('OPTIONS');
    client.socket.send(small, transport.local.port, '127.0.0.1');
    await delegate.messagesArrived(1);
    await sleep(50);
    expect(delegate.messages.map((m) => m.text)).toEqual([small]);
  });

  it('survives a delegate that throws and keeps receiving', async () => {
    let calls = 0;
    const transport = await listen({
      delegate: {
        onMessage: () => {
          calls++;
          throw new Error('boom');
        },
      },
    });
    const client = await udpClient('127.0.0.1');
    client.socket.send('one', transport.local.port, '127.0.0.1');
    client.socket.send('two', transport.local.port, '127.0.0.1');
    await expect.poll(() => calls).toBe(2);
  });

  it('traces messages in and out', async () => {
    const trace: string[] = [];
    const delegate = new RecordingDelegate();
    const transport = await listen({
      delegate,
      trace: (direction, data, flow) => trace.push(`${direction} ${flow.protocol} ${data.toString()}`),
    });
    const client = await udpClient('127.0.0.1');
    client.socket.send('ping', transport.local.port, '127.0.0.1');
    const [m] = await delegate.messagesArrived(1);
    await transport.send(Buffer.from('pong'), { protocol: 'udp', address: '', port: 0, flowId: m!.flow.id });
    expect(trace).toEqual(['in udp ping', 'out udp pong']);
  });

  it('fails to listen on a port already in use with a TransportError', async () => {
    const first = await listen();
    await expect(
      UdpTransport.listen({
        host: '127.0.0.1',
        port: first.local.port,
        delegate: new RecordingDelegate(),
        ioThread,
        ioNative,
      }),
    ).rejects.toMatchObject({ code: 'TRANSPORT_ERROR' });
  });

  it('refuses a message too large for a datagram with a TransportError', async () => {
    const transport = await listen();
    const client = await udpClient('127.0.0.1');
    await expect(
      transport.send(Buffer.alloc(70_000, 0x41), { protocol: 'udp', address: '127.0.0.1', port: client.port }),
    ).rejects.toMatchObject({ code: 'TRANSPORT_ERROR' });
    // The transport goes on.
    await transport.send(Buffer.from('after'), { protocol: 'udp', address: '127.0.0.1', port: client.port });
    expect(await client.next()).toBe('after');
  });

  it('goes on after sending to a port nobody listens on (ICMP port unreachable)', async () => {
    const delegate = new RecordingDelegate();
    const transport = await listen({ delegate });
    const gone = createSocket('udp4');
    await new Promise<void>((r) => gone.bind(0, '127.0.0.1', r));
    const deadPort = gone.address().port;
    await new Promise<void>((r) => gone.close(r));
    for (let i = 0; i < 5; i++)
      await transport.send(Buffer.from(`to nobody ${i}`), { protocol: 'udp', address: '127.0.0.1', port: deadPort });
    await sleep(50);
    const client = await udpClient('127.0.0.1');
    client.socket.send('still there?', transport.local.port, '127.0.0.1');
    const [m] = await delegate.messagesArrived(1);
    expect(m!.text).toBe('still there?');
    await transport.send(Buffer.from('yes'), { protocol: 'udp', address: '', port: 0, flowId: m!.flow.id });
    expect(await client.next()).toBe('yes');
  });

  it('reports a send the kernel refuses (in the log from an I/O thread), and goes on', async () => {
    // A broadcast address without SO_BROADCAST: the kernel refuses the send (EACCES).
    const warnings: string[] = [];
    const logger = {
      debug: () => {},
      warn: (fields: Record<string, unknown>, message: string) => {
        warnings.push(`${message}: ${String((fields.err as { message?: string } | undefined)?.message)}`);
      },
    };
    const transport = await listen({ logger });
    const client = await udpClient('127.0.0.1');
    const refused = transport.send(Buffer.from('to everyone'), {
      protocol: 'udp',
      address: '255.255.255.255',
      port: 9,
    });
    if (!ioThread) {
      // On the event loop the send itself fails.
      await expect(refused).rejects.toMatchObject({ code: 'TRANSPORT_ERROR' });
    } else {
      // An I/O thread took it; the kernel's refusal comes back as a socket error in the log. The native
      // thread's errors are read on the SIP thread's next turn with traffic.
      await refused;
      for (let i = 0; i < 100 && warnings.length === 0; i++) {
        client.socket.send('nudge', transport.local.port, '127.0.0.1');
        await sleep(20);
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^SIP UDP socket error: .*(permission|EACCES)/i);
    }
    await transport.send(Buffer.from('after'), { protocol: 'udp', address: '127.0.0.1', port: client.port });
    expect(await client.next()).toBe('after');
  });

  it('passes bursts of datagrams each way, in order, none lost', async () => {
    const delegate = new RecordingDelegate();
    const transport = await listen({ delegate });
    const client = await udpClient('127.0.0.1');
    // Bursts of 50 datagrams of 500 bytes: within the default socket buffers (rmem_default is about
    // 200 KB), so the kernel itself drops none on loopback whichever thread reads.
    const bursts = 8;
    const size = 50;
    const expected: string[] = [];
    for (let b = 0; b < bursts; b++) {
      for (let i = b * size; i < (b + 1) * size; i++) {
        client.socket.send(`in ${i} `.padEnd(500, '.'), transport.local.port, '127.0.0.1');
        expected.push(String(i));
      }
      await delegate.messagesArrived(expected.length);
    }
    expect(delegate.messages.map((m) => m.text.split(' ')[1])).toEqual(expected);
    const flow = delegate.messages[0]!.flow;
    const back: string[] = [];
    for (let b = 0; b < bursts; b++) {
      for (let i = b * size; i < (b + 1) * size; i++)
        void transport.send(Buffer.from(`out ${i}`), { protocol: 'udp', address: '', port: 0, flowId: flow.id });
      for (let i = 0; i < size; i++) back.push(await client.next());
    }
    expect(back).toEqual(expected.map((i) => `out ${i}`));
  });

  it("passes hostile bytes to the delegate unchanged (parsing is not the transport's business)", async () => {
    const delegate = new RecordingDelegate();
    const transport = await listen({ delegate });
    const client = await udpClient('127.0.0.1');
    const garbage = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80, 0x41, 0x00, 0x7f, 0xc3]);
    client.socket.send(garbage, transport.local.port, '127.0.0.1');
    const [m] = await delegate.messagesArrived(1);
    expect(Buffer.compare(m!.data, garbage)).toBe(0);
  });

  it('close() is idempotent, and a send after it is refused', async () => {
    const transport = await UdpTransport.listen({
      host: '127.0.0.1',
      port: 0,
      delegate: new RecordingDelegate(),
      ioThread,
      ioNative,
    });
    const port = transport.local.port;
    await Promise.all([transport.close(), transport.close()]);
    await transport.close();
    await expect(
      transport.send(Buffer.from('x'), { protocol: 'udp', address: '127.0.0.1', port: 9 }),
    ).rejects.toMatchObject({ code: 'TRANSPORT_ERROR' });
    // The port is free again.
    const again = await UdpTransport.listen({
      host: '127.0.0.1',
      port,
      delegate: new RecordingDelegate(),
      ioThread,
      ioNative,
    });
    await again.close();
  });
});
