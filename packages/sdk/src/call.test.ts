import { describe, expect, it } from 'vitest';
import { Call, type CallContext } from './call.js';
import { CallState } from './call-state.js';
import { ErrorReason } from './handset-error.js';
import type { SdpEvent } from './sip-ports.js';
import { FakeClock } from './testing/fake-clock.js';
import { FakeSession } from './testing/fake-user-agent.js';

function setup(direction: 'incoming' | 'outgoing' = 'outgoing', extra: Partial<CallContext> = {}) {
  const clock = new FakeClock();
  const session = new FakeSession();
  const call = new Call(
    {
      id: 'call-1',
      session,
      direction,
      callId: 'cid',
      remoteUri: 'sip:1002@example.test',
      remoteDisplayName: undefined,
      video: false,
    },
    {
      clock,
      media: async (video) => ({ mediaConstraints: { audio: true, video }, pcConfig: { iceServers: [] } }),
      iceGatheringTimeoutMs: 800,
      dtmfTransport: 'rfc4733',
      sdpTransform: undefined,
      onListenerError: () => undefined,
      ...extra,
    },
  );
  const states: string[] = [];
  call.on('stateChanged', (s) => states.push(s));
  return { call, session, clock, states };
}

const OFFER = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n';

describe('Call', () => {
  it('an outgoing call goes calling -> early -> active -> ended and records who ended it', () => {
    const t = setup();
    t.session.fire('progress');
    t.session.fire('accepted');
    t.session.fire('confirmed');
    t.session.fire('ended', { originator: 'remote', cause: 'Terminated' });
    expect(t.states).toEqual(['early', 'active', 'ended']);
    expect(t.call.end).toEqual({ by: 'remote', cause: 'Terminated', statusCode: undefined, failed: false });
  });

  it('a rejected call ends as failed with the SIP status', () => {
    const t = setup();
    t.session.fire('failed', { originator: 'remote', cause: 'Busy', statusCode: 486 });
    expect(t.call.state).toBe(CallState.Ended);
    expect(t.call.end).toMatchObject({ failed: true, statusCode: 486, cause: 'Busy' });
  });

  it('methods that do not fit the state throw invalid-state and send nothing', async () => {
    const t = setup('outgoing');
    await expect(t.call.answer()).rejects.toMatchObject({ reason: ErrorReason.InvalidState });
    expect(() => t.call.reject()).toThrow(expect.objectContaining({ reason: ErrorReason.InvalidState }));
    expect(() => t.call.hold()).toThrow(expect.objectContaining({ reason: ErrorReason.InvalidState }));
    expect(() => t.call.sendDTMF('1')).toThrow(expect.objectContaining({ reason: ErrorReason.InvalidState }));
    expect(t.session.actions).toEqual([]);
  });

  it('answers an incoming call with the media the phone builds, and reject refuses bogus statuses', async () => {
    const t = setup('incoming');
    expect(() => t.call.reject(200)).toThrow(expect.objectContaining({ reason: ErrorReason.InvalidArgument }));
    await t.call.answer();
    expect(t.call.state).toBe(CallState.Answering);
    expect(t.session.answered).toEqual({
      mediaConstraints: { audio: true, video: false },
      pcConfig: { iceServers: [] },
    });
  });

  it('validates DTMF tones and timing before anything is sent, and uses the chosen transport', () => {
    const t = setup();
    t.session.fire('accepted');
    for (const bad of ['', 'x', '12E', '1'.repeat(65), '1\r\n']) {
      expect(() => t.call.sendDTMF(bad)).toThrow(expect.objectContaining({ reason: ErrorReason.InvalidArgument }));
    }
    expect(() => t.call.sendDTMF('1', { durationMs: 10 })).toThrow(
      expect.objectContaining({ reason: ErrorReason.InvalidArgument }),
    );
    t.call.sendDTMF('12#*');
    t.call.sendDTMF('9', { transport: 'info' });
    expect(t.session.actions).toEqual(['dtmf 12#* rfc4733', 'dtmf 9 info']);
  });

  it('reports DTMF from SIP INFO whether JsSIP parsed it or not', () => {
    const t = setup();
    const tones: string[] = [];
    t.call.on('dtmf', (d) => tones.push(d.tone));
    t.session.fire('dtmf', { tone: '5', durationMs: 100, originator: 'remote' });
    t.session.fire('dtmf', { tone: '6', durationMs: 100, originator: 'local' });
    t.session.fire('info', {
      contentType: 'application/dtmf-relay',
      body: 'Signal=#\r\nDuration=160\r\n',
      originator: 'remote',
    });
    t.session.fire('info', { contentType: 'text/plain', body: 'Signal=1', originator: 'remote' });
    expect(tones).toEqual(['5', '#']);
  });

  it('holding rewrites our offers to a=inactive until unhold', () => {
    const t = setup();
    t.session.fire('accepted');
    t.call.hold();
    expect(t.call.holdState).toEqual({ local: true, remote: false });
    const held: SdpEvent = { originator: 'local', type: 'offer', sdp: OFFER };
    t.session.fire('sdp', held);
    expect(held.sdp).toContain('a=inactive\r\n');
    expect(held.sdp).not.toContain('a=sendrecv');
    // The remote's SDP and our answers are left alone.
    const remote: SdpEvent = { originator: 'remote', type: 'offer', sdp: OFFER };
    t.session.fire('sdp', remote);
    expect(remote.sdp).toBe(OFFER);
    t.call.unhold();
    const resumed: SdpEvent = { originator: 'local', type: 'offer', sdp: OFFER };
    t.session.fire('sdp', resumed);
    expect(resumed.sdp).toBe(OFFER);
  });

  it('a second hold while a re-INVITE is pending is refused', () => {
    const t = setup();
    t.session.fire('accepted');
    t.session.busy = true;
    expect(() => t.call.hold()).toThrow(expect.objectContaining({ reason: ErrorReason.InvalidState }));
  });

  it('the SDP goes out at the ICE deadline after the first candidate, not at the end of gathering', () => {
    const t = setup();
    let sent = 0;
    const ready = () => sent++;
    t.session.fire('icecandidate', { ready });
    t.session.fire('icecandidate', { ready });
    t.clock.advance(799);
    expect(sent).toBe(0);
    t.clock.advance(1);
    expect(sent).toBe(1);
    expect(t.clock.pending()).toEqual([]);
  });

  it('a blind transfer hangs up when the REFER is accepted and rejects with call-failed otherwise', async () => {
    const t = setup();
    t.session.fire('accepted');
    expect(() => t.call.transfer('  ')).toThrow(expect.objectContaining({ reason: ErrorReason.InvalidArgument }));
    const ok = t.call.transfer('sip:1003@example.test');
    t.session.referred!.cb.onAccepted();
    await ok;
    expect(t.session.actions).toEqual(['refer sip:1003@example.test', 'terminate']);

    const u = setup();
    u.session.fire('accepted');
    const bad = u.call.transfer('1003');
    u.session.referred!.cb.onFailed('Busy Here');
    await expect(bad).rejects.toMatchObject({ reason: ErrorReason.CallFailed });
    expect(u.session.actions).not.toContain('terminate');
  });

  it('an attended transfer refers with Replaces of the other call and ends both', async () => {
    const a = setup();
    const c = setup();
    a.session.fire('accepted');
    c.session.fire('accepted');
    const done = a.call.attendedTransfer(c.call);
    expect(a.session.referred).toMatchObject({ target: 'sip:1002@example.test', replaces: c.session });
    a.session.referred!.cb.onAccepted();
    await done;
    expect(a.session.actions).toContain('terminate');
    expect(c.session.actions).toContain('terminate');
    expect(() => a.call.attendedTransfer(a.call)).toThrow();
  });

  it('mute and unmute track the flags and report each change once', () => {
    const t = setup();
    t.session.fire('accepted');
    const seen: unknown[] = [];
    t.call.on('mute', (m) => seen.push(m));
    t.call.mute();
    t.call.mute();
    t.call.mute({ video: true });
    t.call.unmute({ audio: true });
    expect(seen).toEqual([
      { audio: true, video: false },
      { audio: true, video: true },
      { audio: false, video: true },
    ]);
  });
});
