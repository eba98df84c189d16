import { describe, expect, it } from 'vitest';
import { settle } from './endpoint-harness.js';
import { createMemoryTransportPair, MemoryNetwork } from './memory-transport.js';
import { SipPeer } from './sip-peer.js';

const msg = (text: string) => Buffer.from(text);

function collector() {
  const got: Array<{ data: string; flowId: string }> = [];
  const closed: string[] = [];
  return {
    got,
    closed,
    onMessage: (data: Buffer, flow: { id: string }) => got.push({ data: data.toString(), flowId: flow.id }),
    onFlowClosed: (flow: { id: string }) => closed.push(flow.id),
  };
}

describe('MemoryTransport', () => {
  it('delivers UDP datagrams both ways with flows that name the source', async () => {
    const [a, b] = createMemoryTransportPair();
    const ca = collector();
    const cb = collector();
    a.attach(ca);
    b.attach(cb);
    const flow = await a.send(msg('one'), { protocol: 'udp', address: '127.0.0.2', port: 5060 });
    expect(flow.remote).toEqual({ address: '127.0.0.2', port: 5060 });
    expect(flow.reliable).toBe(false);
    await settle();
    expect(cb.got).toEqual([{ data: 'one', flowId: 'udp:127.0.0.2:5060>127.0.0.1:5060' }]);
    await b.send(msg('two'), { protocol: 'udp', address: '0.0.0.0', port: 1, flowId: cb.got[0]!.flowId });
    await settle();
    expect(ca.got.map((g) => g.data)).toEqual(['two']);
  });

  it('loses UDP datagrams as configured, never stream data', async () => {
    let n = 0;
    const network = new MemoryNetwork({ drop: () => n++ % 2 === 0 });
    const udpPeer = collector();
    const tcpPeer = collector();
    network.createTransport({ protocol: 'udp', address: '10.0.0.2', port: 5060, delegate: udpPeer });
    network.createTransport({ protocol: 'tcp', address: '10.0.0.2', port: 5060, delegate: tcpPeer });
    const udp = network.createTransport({ protocol: 'udp', address: '10.0.0.1', port: 5060 });
    const tcp = network.createTransport({ protocol: 'tcp', address: '10.0.0.1', port: 5060 });
    for (let i = 0; i < 4; i++) {
      await udp.send(msg(`u${i}`), { protocol: 'udp', address: '10.0.0.2', port: 5060 });
      await tcp.send(msg(`t${i}`), { protocol: 'tcp', address: '10.0.0.2', port: 5060 });
    }
    await settle();
    expect(udpPeer.got.map((g) => g.data)).toEqual(['u1', 'u3']);
    expect(tcpPeer.got.map((g) => g.data)).toEqual(['t0', 't1', 't2', 't3']);
  });

  it('opens one connection per peer, reuses it, and closes it on both sides', async () => {
    const [a, b] = createMemoryTransportPair({ protocol: 'tcp' });
    const ca = collector();
    const cb = collector();
    a.attach(ca);
    b.attach(cb);
    const f1 = await a.send(msg('x'), { protocol: 'tcp', address: '127.0.0.2', port: 5060 });
    const f2 = await a.send(msg('y'), { protocol: 'tcp', address: '127.0.0.2', port: 5060 });
    expect(f2.id).toBe(f1.id);
    expect(f1.local.port).not.toBe(5060);
    await settle();
    expect(cb.got.map((g) => g.data)).toEqual(['x', 'y']);
    expect(b.getFlow(cb.got[0]!.flowId)?.remote).toEqual(f1.local);
    b.closeFlow(cb.got[0]!.flowId);
    expect(ca.closed).toEqual([f1.id]);
    expect(cb.closed).toHaveLength(1);
    expect(a.getFlow(f1.id)).toBeUndefined();
  });

  it('refuses connections to nobody and outbound connections from an accept-only (WS) transport', async () => {
    const network = new MemoryNetwork();
    const ws = network.createTransport({ protocol: 'ws', address: '127.0.0.1', port: 8080, acceptOnly: true });
    const browser = network.createTransport({ protocol: 'ws', address: '127.0.0.9', port: 1 });
    const peer = new SipPeer();
    browser.attach(peer);
    await expect(browser.send(msg('z'), { protocol: 'ws', address: '127.0.0.1', port: 9999 })).rejects.toThrow(
      /refused/,
    );
    await expect(ws.send(msg('z'), { protocol: 'ws', address: '127.0.0.9', port: 1 })).rejects.toThrow(/cannot open/);
    await expect(ws.send(msg('z'), { protocol: 'udp', address: '127.0.0.9', port: 1 })).rejects.toThrow(
      /over a ws transport/,
    );
    expect(() => network.createTransport({ protocol: 'ws', address: '127.0.0.1', port: 8080 })).toThrow(
      /already bound/,
    );
  });
});
