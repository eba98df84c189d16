import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResponse } from '../create-response.js';
import { createEndpointHarness, requestText, settle, testRequest } from '../testing/endpoint-harness.js';
import { SipPeer } from '../testing/sip-peer.js';
import type { SipParseError } from '../sip-error.js';
import type { Flow } from '../transport.js';
import { SipEndpoint } from './sip-endpoint.js';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const answer200 = (t: {
  request: Parameters<typeof createResponse>[0];
  respond: (r: ReturnType<typeof createResponse>) => void;
}) => t.respond(createResponse(t.request, 200, { toTag: 'srv' }));

describe('received and rport (RFC 3261 §18.2.1, RFC 3581 §4)', () => {
  it('adds received when sent-by is a name, and fills an empty rport with the source port', async () => {
    const h = createEndpointHarness();
    await h.peer.send(requestText('OPTIONS', { sentBy: 'phone.invalid:5070', rport: true }), h.toEndpoint);
    await settle();
    const via = h.user.transactions[0]!.request.topVia;
    expect(via.host).toBe('phone.invalid');
    expect(via.params.get('received')).toBe('127.0.0.2');
    expect(via.params.get('rport')).toBe('5060');
    expect(via.params.get('branch')).toBe('z9hG4bK-1');
  });

  it('adds received with rport even when the address matches, and leaves a matching Via without rport alone', async () => {
    const h = createEndpointHarness();
    await h.peer.send(requestText('OPTIONS', { branch: 'z9hG4bK-a', rport: true }), h.toEndpoint);
    await h.peer.send(requestText('OPTIONS', { branch: 'z9hG4bK-b' }), h.toEndpoint);
    await settle();
    const [a, b] = h.user.transactions;
    expect(a!.request.topVia.params.get('received')).toBe('127.0.0.2');
    expect(a!.request.topVia.params.get('rport')).toBe('5060');
    expect(b!.request.getHeaders('via')).toEqual(['SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK-b']);
  });

  it('keeps the other Via values in order when stamping the top one', async () => {
    const h = createEndpointHarness();
    await h.peer.send(
      requestText('OPTIONS', {
        sentBy: '10.0.0.1:5060',
        headers: ['Via: SIP/2.0/UDP 10.9.9.9;branch=z9hG4bK-second, SIP/2.0/TCP 10.8.8.8;branch=z9hG4bK-third'],
      }),
      h.toEndpoint,
    );
    await settle();
    const vias = h.user.transactions[0]!.request.via;
    expect(vias.map((v) => [v.host, v.params.get('received') ?? null])).toEqual([
      ['10.0.0.1', '127.0.0.2'],
      ['10.9.9.9', null],
      ['10.8.8.8', null],
    ]);
  });

  it('sends the response to the source port when rport was asked for, even if the Via names another port', async () => {
    const h = createEndpointHarness();
    h.user.answer = answer200;
    await h.peer.send(requestText('OPTIONS', { sentBy: '192.0.2.7:5099', rport: true }), h.toEndpoint);
    await settle();
    const responses = h.peer.responses(200);
    expect(responses).toHaveLength(1);
    expect(responses[0]!.topVia.params.get('received')).toBe('127.0.0.2');
  });

  it('without rport sends the response to received and the sent-by port (§18.2.2)', async () => {
    const h = createEndpointHarness();
    h.user.answer = answer200;
    const other = new SipPeer();
    h.network.createTransport({ protocol: 'udp', address: '127.0.0.2', port: 5099, delegate: other });
    await h.peer.send(requestText('OPTIONS', { sentBy: '192.0.2.7:5099' }), h.toEndpoint);
    await settle();
    expect(h.peer.responses()).toHaveLength(0);
    expect(other.responses(200)).toHaveLength(1);
  });
});

describe('responses over stream transports', () => {
  it('go back over the connection the request arrived on, whatever the Via says', async () => {
    for (const protocol of ['tcp', 'ws'] as const) {
      const h = createEndpointHarness({ protocol });
      h.user.answer = answer200;
      const flow = await h.peer.send(
        requestText('REGISTER', { transport: protocol.toUpperCase(), sentBy: 'df7jal23ls0d.invalid' }),
        h.toEndpoint,
      );
      await settle();
      expect(h.peer.responses(200)).toHaveLength(1);
      expect(h.peer.received[0]!.flow.id).toBe(flow.id);
      expect(h.peerTransport.flowCount).toBe(1);
    }
  });

  it('fail rather than open a new connection when the arrival connection has closed', async () => {
    const h = createEndpointHarness({ protocol: 'tcp' });
    const flow = await h.peer.send(requestText('OPTIONS', { transport: 'TCP' }), h.toEndpoint);
    await settle();
    const request = h.user.transactions[0]!.request;
    const serverFlow = h.user.transactions[0]!.flow;
    const target = {
      protocol: 'tcp' as const,
      address: serverFlow.remote.address,
      port: serverFlow.remote.port,
      flowId: serverFlow.id,
    };
    expect(h.endpoint.isFlowOpen(target)).toBe(true);
    h.peerTransport.closeFlow(flow.id);
    expect(h.endpoint.isFlowOpen(target)).toBe(false);
    expect(h.user.closedFlows.map((f) => f.id)).toEqual([serverFlow.id]);
    await expect(h.endpoint.sendResponse(createResponse(request, 200, { toTag: 'x' }), serverFlow)).rejects.toThrow(
      /closed/,
    );
    expect(h.peerTransport.flowCount).toBe(0);
  });
});

describe('malformed input', () => {
  it('answers a malformed request with 400 and the reason, statelessly, to the Via source', async () => {
    const errors: SipParseError[] = [];
    const h = createEndpointHarness({ onParseError: (e) => errors.push(e) });
    const bad = requestText('INVITE', { sentBy: 'phone.invalid', rport: true }).replace(
      'Max-Forwards: 70',
      'Max-Forwards: seventy',
    );
    await h.peer.send(bad, h.toEndpoint);
    await settle();
    const [response] = h.peer.responses();
    expect(response?.status).toBe(400);
    expect(response!.reason).toBe('Bad Request (bad Max-Forwards)');
    expect(response!.topVia.host).toBe('phone.invalid');
    expect(response!.topVia.params.get('received')).toBe('127.0.0.2');
    expect(response!.topVia.params.get('rport')).toBe('5060');
    expect(response!.to.params.get('tag')).toBeTruthy();
    expect(response!.from.params.get('tag')).toBe('alice-1');
    expect(response!.callId).toBe('call-1@test');
    expect(response!.cseq).toEqual({ seq: 1, method: 'INVITE' });
    expect(h.user.transactions).toHaveLength(0);
    expect(h.endpoint.stats.parseErrors).toBe(1);
    expect(h.endpoint.stats.malformedAnswered).toBe(1);
    expect(errors.map((e) => e.message)).toEqual(['bad Max-Forwards']);
  });

  it('echoes even a broken CSeq in the 400, so the client can see what it sent', async () => {
    const h = createEndpointHarness();
    await h.peer.send(requestText('OPTIONS').replace('CSeq: 1 OPTIONS', 'CSeq: one OPTIONS'), h.toEndpoint);
    await settle();
    const text = h.peer.garbage.map((b) => b.toString());
    expect(text).toHaveLength(1);
    expect(text[0]).toMatch(/^SIP\/2\.0 400 Bad Request \(bad CSeq\)\r\n/);
    expect(text[0]).toContain('\r\nCSeq: one OPTIONS\r\n');
  });

  it('answers an unsupported SIP version with 505', async () => {
    const h = createEndpointHarness();
    await h.peer.send(requestText('OPTIONS').replace('SIP/2.0\n', 'SIP/7.0\n'), h.toEndpoint);
    await settle();
    expect(h.peer.responses().map((r) => r.status)).toEqual([505]);
  });

  it('answers over the arrival connection on TCP', async () => {
    const h = createEndpointHarness({ protocol: 'tcp' });
    const flow = await h.peer.send(
      requestText('OPTIONS', { transport: 'TCP' }).replace('Max-Forwards: 70', 'Max-Forwards: 1000'),
      h.toEndpoint,
    );
    await settle();
    expect(h.peer.responses().map((r) => r.status)).toEqual([400]);
    expect(h.peer.received[0]!.flow.id).toBe(flow.id);
  });

  it('answers a request whose top Via cannot be read with 400 to its source, that Via copied as it came (RFC 4475 badinv01)', async () => {
    for (const protocol of ['udp', 'tcp'] as const) {
      const h = createEndpointHarness({ protocol });
      const flow = await h.peer.send(
        requestText('OPTIONS').replace(/Via: .*\n/, 'Via: SIP/2.0/UDP 192.0.2.15;;,;,,\n'),
        h.toEndpoint,
      );
      await settle();
      const text = h.peer.garbage.map((b) => b.toString()).concat(h.peer.received.map((r) => r.data.toString()));
      expect(text).toHaveLength(1);
      expect(text[0]).toMatch(/^SIP\/2\.0 400 Bad Request/);
      expect(text[0]).toContain('\r\nVia: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n');
      expect(text[0]).toContain('\r\nCall-ID: call-1@test\r\n');
      expect(h.peer.received.concat([]).every((r) => r.flow.id === flow.id)).toBe(true);
      expect(h.endpoint.stats.malformedAnswered).toBe(1);
    }
  });

  it('drops what cannot be answered: garbage, a malformed response, a malformed ACK, no Via', async () => {
    const h = createEndpointHarness();
    const inputs = [
      '\u0000\u0001\u0002 binary noise',
      'SIP/2.0 200 OK\nVia: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bK-r\nCSeq: x\n\n',
      requestText('ACK', { toTag: 't' }).replace('Call-ID: call-1@test\n', ''),
      requestText('OPTIONS').replace(/Via: .*\n/, ''),
    ];
    for (const text of inputs) await h.peer.send(text, h.toEndpoint);
    await settle();
    expect(h.peer.received).toHaveLength(0);
    expect(h.endpoint.stats.parseErrors).toBe(inputs.length);
    expect(h.endpoint.stats.malformedAnswered).toBe(0);
    expect(h.user.transactions).toHaveLength(0);
  });

  it('ignores keep-alive CRLFs without counting them as errors', async () => {
    const h = createEndpointHarness();
    await h.peer.send('\r\n\r\n', h.toEndpoint);
    await settle();
    expect(h.endpoint.stats.parseErrors).toBe(0);
    expect(h.peer.received).toHaveLength(0);
  });
});

describe('SipEndpoint', () => {
  it('passes a response with a foreign top Via to the TU as stray', async () => {
    const h = createEndpointHarness();
    await h.peer.send(
      'SIP/2.0 200 OK\nVia: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK-foreign\nFrom: <sip:a@x>;tag=1\nTo: <sip:b@x>;tag=2\nCall-ID: c\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n',
      h.toEndpoint,
    );
    await settle();
    expect(h.user.strays.map((s) => s.response.topVia.host)).toEqual(['203.0.113.5']);
  });

  it('answers 503 while no user is set', async () => {
    const h = createEndpointHarness();
    h.endpoint.user = undefined;
    await h.peer.send(requestText('OPTIONS'), h.toEndpoint);
    await settle();
    expect(h.peer.responses().map((r) => r.status)).toEqual([503]);
  });

  it('traces messages in and out', async () => {
    const lines: string[] = [];
    const h = createEndpointHarness({ trace: (dir, data) => lines.push(`${dir} ${data.toString().split('\r\n')[0]}`) });
    h.user.answer = answer200;
    await h.peer.send(requestText('OPTIONS'), h.toEndpoint);
    await settle();
    expect(lines).toEqual(['in OPTIONS sip:bob@127.0.0.1 SIP/2.0', 'out SIP/2.0 200 OK']);
  });

  it('picks the transport by protocol and rejects a protocol it has none for', async () => {
    const h = createEndpointHarness();
    const tcpPeer = new SipPeer();
    h.network.createTransport({ protocol: 'tcp', address: '127.0.0.3', port: 5060, delegate: tcpPeer });
    const tcp = h.network.createTransport({ protocol: 'tcp', address: '127.0.0.1', port: 5060, delegate: h.endpoint });
    h.endpoint.addTransport(tcp);
    await h.endpoint.sendStateless(testRequest('OPTIONS', { transport: 'TCP', sentBy: '127.0.0.1:5060' }), {
      protocol: 'tcp',
      address: '127.0.0.3',
      port: 5060,
    });
    await settle();
    expect(tcpPeer.requests('OPTIONS')).toHaveLength(1);
    await expect(
      h.endpoint.sendStateless(testRequest('OPTIONS'), { protocol: 'tls', address: '127.0.0.3', port: 5061 }),
    ).rejects.toThrow(/no tls transport/);
  });

  it('close() ends transactions and closes its transports, idempotently', async () => {
    const h = createEndpointHarness();
    await h.peer.send(requestText('INVITE'), h.toEndpoint);
    await settle();
    await Promise.all([h.endpoint.close(), h.endpoint.close()]);
    expect(vi.getTimerCount()).toBe(0);
    await expect(h.endpointTransport.send(Buffer.from('x'), h.toPeer)).rejects.toThrow(/closed/);
  });

  it('survives a user that throws everywhere', async () => {
    const endpoint = new SipEndpoint({
      user: {
        onRequest: () => {
          throw new Error('a');
        },
        onAck: () => {
          throw new Error('b');
        },
        onStrayResponse: () => {
          throw new Error('c');
        },
        onFlowClosed: () => {
          throw new Error('d');
        },
      },
    });
    const flow: Flow = {
      id: 'f',
      protocol: 'udp',
      local: { address: '127.0.0.1', port: 5060 },
      remote: { address: '127.0.0.2', port: 5060 },
      reliable: false,
    };
    const crlf = (s: string) => Buffer.from(s.replace(/\n/g, '\r\n'));
    expect(() => endpoint.onMessage(crlf(requestText('OPTIONS')), flow)).not.toThrow();
    expect(() => endpoint.onMessage(crlf(requestText('ACK', { toTag: 't' })), flow)).not.toThrow();
    expect(() =>
      endpoint.onMessage(
        crlf(
          'SIP/2.0 200 OK\nVia: SIP/2.0/UDP x;branch=z9hG4bK-q\nFrom: <sip:a@x>;tag=1\nTo: <sip:b@x>\nCall-ID: c\nCSeq: 1 OPTIONS\n\n',
        ),
        flow,
      ),
    ).not.toThrow();
    expect(() => endpoint.onFlowClosed(flow)).not.toThrow();
    await endpoint.close();
  });
});
