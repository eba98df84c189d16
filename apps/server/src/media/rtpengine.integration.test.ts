/**
 * The media plane against a real rtpengine (Debian rtpengine-daemon), started by the supervisor
 * as `npm start` does: offers and answers between a WebRTC end and a plain phone, the session
 * count after delete, restart after a crash, and the ng client's retries and timeouts.
 */
import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaError } from './media-error.js';
import { MediaPlane } from './media-plane.js';
import { NgClient } from './ng-client.js';
import { RtpengineSet } from './rtpengine-set.js';
import { findExecutable, RtpengineSupervisor } from './rtpengine-supervisor.js';
import { sdpProfile } from './sdp-profile.js';
import { CHROME_OFFER, plainSdp } from './testing/sdp-samples.js';

const binary = await findExecutable('rtpengine');

describe.skipIf(!binary)('media plane with a real rtpengine', () => {
  let sup: RtpengineSupervisor;
  let set: RtpengineSet;
  let plane: MediaPlane;

  beforeAll(async () => {
    const base = 20000 + Math.floor(Math.random() * 20000);
    sup = new RtpengineSupervisor({
      binary: binary!,
      interfaceAddress: '127.0.0.1',
      advertisedAddress: '127.0.0.1',
      portMin: base,
      portMax: base + 99,
      restartDelayMs: 100,
    });
    await sup.start();
    set = new RtpengineSet({ clients: [sup.ng], probeDeadMs: 200 });
    sup.on('exited', () => set.markDown(sup.ng));
    sup.on('ready', () => set.markUp(sup.ng));
    plane = new MediaPlane({ mode: 'auto', engines: set });
  });
  afterAll(async () => {
    set?.close();
    await sup?.close();
  });

  it('bridges a WebRTC offer to a plain phone and answers back in WebRTC terms', async () => {
    const callId = `c-${Math.random()}`;
    const toPhone = await plane.offer(callId, 'rtp', { fromTag: 'ft', sdp: CHROME_OFFER, receivedFrom: '127.0.0.1' });
    const offered = sdpProfile(toPhone)!;
    expect(offered.kind).toBe('rtp');
    expect(toPhone).toMatch(/m=audio \d+ RTP\/AVP /);
    expect(toPhone).not.toContain('a=ice-ufrag');
    expect(toPhone).not.toContain('a=fingerprint');
    expect(offered.codecs).toContain('PCMU');

    const toBrowser = await plane.answer(callId, { fromTag: 'ft', toTag: 'tt', sdp: plainSdp(40000) });
    expect(sdpProfile(toBrowser)!.kind).toBe('webrtc');
    expect(toBrowser).toContain('UDP/TLS/RTP/SAVPF');
    expect(toBrowser).toContain('a=fingerprint:');
    expect(toBrowser).toContain('a=ice-ufrag:');
    expect(toBrowser).toContain('a=rtcp-mux');
    expect(await plane.sessionCount()).toBeGreaterThanOrEqual(1);
    await plane.delete(callId);
    expect(plane.has(callId)).toBe(false);
  });

  it('offers a plain phone’s PCMU call to a browser as WebRTC, PCMU kept (no transcoding needed)', async () => {
    const callId = `c-${Math.random()}`;
    const sdp = plainSdp(40002);
    const toBrowser = await plane.offer(callId, 'webrtc', { fromTag: 'a', sdp, ...sdpProfile(sdp) });
    expect(sdpProfile(toBrowser)!.kind).toBe('webrtc');
    expect(sdpProfile(toBrowser)!.codecs[0]).toBe('PCMU');
    expect(sdpProfile(toBrowser)!.codecs).not.toContain('OPUS');
    expect(toBrowser).toContain('a=setup:actpass');
    await plane.delete(callId);
  });

  it('transcodes when the two ends share no codec: a G.729-only phone is offered to a browser with Opus and PCMU', async () => {
    const callId = `c-${Math.random()}`;
    const sdp = plainSdp(40004, '18').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:18 G729/8000');
    const profile = sdpProfile(sdp)!;
    expect(profile.codecs).toEqual(['G729']);
    const toBrowser = await plane.offer(callId, 'webrtc', {
      fromTag: 'a',
      sdp,
      codecs: profile.codecs,
      fromKind: 'rtp',
    });
    expect(sdpProfile(toBrowser)!.codecs).toEqual(expect.arrayContaining(['G729', 'OPUS', 'PCMU', 'TELEPHONE-EVENT']));
    // The browser picks Opus: rtpengine answers the phone in G.729 and transcodes between them.
    const answer = await plane.answer(callId, {
      fromTag: 'a',
      toTag: 'b',
      sdp: CHROME_OFFER.replace('a=setup:actpass', 'a=setup:active').replace(
        /m=audio 9 UDP\/TLS\/RTP\/SAVPF [0-9 ]+/,
        'm=audio 9 UDP/TLS/RTP/SAVPF 111',
      ),
    });
    expect(answer).toMatch(/m=audio \d+ RTP\/AVP 18/);
    await plane.delete(callId);
  });

  it('leaves no session behind once every call is deleted', async () => {
    const ids = Array.from({ length: 5 }, (_, i) => `leak-${i}-${Math.random()}`);
    for (const id of ids) await plane.offer(id, 'rtp', { fromTag: 'x', sdp: CHROME_OFFER });
    for (const id of ids) await plane.delete(id);
    expect(await plane.sessionCount()).toBe(0);
  });

  it('reports the calls of an rtpengine that died, and takes new calls once it is back', async () => {
    const callId = `crash-${Math.random()}`;
    await plane.offer(callId, 'rtp', { fromTag: 'x', sdp: CHROME_OFFER });
    const lost = new Promise<string[]>((resolve) => plane.on('lost', resolve));
    const back = new Promise<void>((resolve) => sup.on('ready', resolve));
    process.kill(sup.pid!, 'SIGKILL');
    expect(await lost).toEqual([callId]);
    expect(plane.available).toBe(false);
    await expect(plane.offer(`after-${Math.random()}`, 'rtp', { fromTag: 'x', sdp: CHROME_OFFER })).rejects.toThrow(
      MediaError,
    );
    await back;
    expect(plane.available).toBe(true);
    const again = `again-${Math.random()}`;
    await expect(plane.offer(again, 'rtp', { fromTag: 'x', sdp: CHROME_OFFER })).resolves.toContain('RTP/AVP');
    await plane.delete(again);
  }, 20_000);

  it('turns rtpengine’s own refusal into a REFUSED error', async () => {
    await expect(
      sup.ng.request('answer', { 'call-id': 'nope', 'from-tag': 'a', 'to-tag': 'b', sdp: 'x' }),
    ).rejects.toMatchObject({ code: 'REFUSED' });
  });
});

describe('ng client', () => {
  it('retries with the same cookie and takes the late answer', async () => {
    const server = createSocket('udp4');
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    const cookies: string[] = [];
    server.on('message', (msg, rinfo) => {
      const cookie = msg.toString().split(' ')[0]!;
      cookies.push(cookie);
      if (cookies.length < 2) return; // the first attempt is "lost"
      server.send(Buffer.from(`${cookie} d6:result4:ponge`), rinfo.port, rinfo.address);
    });
    const c = new NgClient({ host: '127.0.0.1', port: server.address().port, timeoutMs: 100, retries: 2 });
    await expect(c.request('ping')).resolves.toMatchObject({ result: 'pong' });
    expect(cookies).toHaveLength(2);
    expect(cookies[0]).toBe(cookies[1]);
    c.close();
    server.close();
  });

  it('gives up after its retries with TIMEOUT, and ignores garbage meanwhile', async () => {
    const server = createSocket('udp4');
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    let attempts = 0;
    server.on('message', (msg, rinfo) => {
      attempts++;
      server.send(Buffer.from('garbage without a cookie'), rinfo.port, rinfo.address);
      server.send(Buffer.from(`${msg.toString().split(' ')[0]!}-other d6:result2:oke`), rinfo.port, rinfo.address);
    });
    const c = new NgClient({ host: '127.0.0.1', port: server.address().port, timeoutMs: 50, retries: 1 });
    await expect(c.request('ping')).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(attempts).toBe(2);
    c.close();
    server.close();
  });

  it('fails a request whose answer does not parse, without crashing', async () => {
    const server = createSocket('udp4');
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    server.on('message', (msg, rinfo) => {
      server.send(Buffer.from(`${msg.toString().split(' ')[0]!} d6:result`), rinfo.port, rinfo.address);
    });
    const c = new NgClient({ host: '127.0.0.1', port: server.address().port, timeoutMs: 200, retries: 0 });
    await expect(c.request('ping')).rejects.toMatchObject({ code: 'BENCODE' });
    c.close();
    server.close();
  });
});

describe('rtpengine set', () => {
  /** A stand-in rtpengine on a real UDP socket: answers ping while `answering`, never answers an offer. */
  async function slowEngine() {
    const server = createSocket('udp4');
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    const state = { answering: true };
    server.on('message', (msg, rinfo) => {
      const text = msg.toString();
      const cookie = text.split(' ')[0]!;
      if (state.answering && text.includes('4:ping')) {
        server.send(Buffer.from(`${cookie} d6:result4:ponge`), rinfo.port, rinfo.address);
      }
    });
    return { server, state, port: server.address().port };
  }

  it('a command that times out does not take down an rtpengine that still answers ping (its calls go on)', async () => {
    const eng = await slowEngine();
    const client = new NgClient({ host: '127.0.0.1', port: eng.port, timeoutMs: 50, retries: 1 });
    const set = new RtpengineSet({ clients: [client], probeDeadMs: 50, probeAliveMs: 50 });
    const downs: string[][] = [];
    set.on('engine-down', (_a, calls) => downs.push(calls));
    await expect(set.command('call-1', 'offer', { sdp: 'v=0' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await new Promise((r) => setTimeout(r, 400));
    expect(downs).toEqual([]);
    expect(set.available).toBe(true);
    set.close();
    eng.server.close();
  });

  it('an rtpengine that stops answering ping is declared down, its calls reported, and taken back when it answers', async () => {
    const eng = await slowEngine();
    const client = new NgClient({ host: '127.0.0.1', port: eng.port, timeoutMs: 50, retries: 0 });
    const set = new RtpengineSet({ clients: [client], probeDeadMs: 50, probeAliveMs: 50 });
    const down = new Promise<string>((resolve) => set.on('engine-down', (address) => resolve(address)));
    eng.state.answering = false;
    expect(await down).toBe(client.address);
    expect(set.available).toBe(false);
    const up = new Promise<void>((resolve) => set.on('engine-up', () => resolve()));
    eng.state.answering = true;
    await up;
    expect(set.available).toBe(true);
    set.close();
    eng.server.close();
  });
});
