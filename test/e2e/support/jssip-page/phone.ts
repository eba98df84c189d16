/**
 * The browser side of the JsSIP interop test: one JsSIP UA per page, driven from Node through
 * `window.phone` (esbuild bundles this file with JsSIP into one IIFE script).
 */
import JsSIP from 'jssip';
import type { RTCSession } from 'jssip/lib/RTCSession.js';
import type { IncomingRTCSessionEvent, OutgoingRTCSessionEvent, UA } from 'jssip/lib/UA.js';
import type { AudioStats, CallInfo, CallState, PhoneApi, RegisterResult } from './phone-api.js';

const params = new URLSearchParams(location.search);
// JsSIP types `debug` with @types/debug, which is not installed: only these two calls are used.
const jssipDebug = JsSIP.debug as unknown as { enable(namespaces: string): void; disable(): void };
if (params.get('debug') === '1') jssipDebug.enable('JsSIP:*');
else jssipDebug.disable();
/** With `?candidates=all` the page offers every host candidate; by default only loopback ones (see below). */
const loopbackOnly = params.get('candidates') !== 'all';

/**
 * Keeps only loopback ICE candidates in an SDP this page sends, so media between two pages on one
 * machine stays on 127.0.0.1/::1 whatever other interfaces the machine has.
 */
function keepLoopbackCandidates(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((line) => {
      if (!line.startsWith('a=candidate:')) return true;
      const address = line.split(' ')[4];
      return address === '127.0.0.1' || address === '::1';
    })
    .join('\r\n');
}

const media = { mediaConstraints: { audio: true, video: false }, pcConfig: { iceServers: [] } };

let ua: UA | null = null;
let session: RTCSession | null = null;
let sentSdp = '';
let info: CallInfo = { state: 'idle', direction: null, callId: null, cause: null, endedBy: null, remoteIdentity: null };

function setState(state: CallState, extra: Partial<CallInfo> = {}): void {
  info = { ...info, state, ...extra };
}

/** Plays the remote stream so Chromium treats the call like a real one (inbound RTP is counted either way). */
function attachRemoteAudio(s: RTCSession): void {
  const pc = s.connection;
  pc.addEventListener('track', (ev: RTCTrackEvent) => {
    const el = document.createElement('audio');
    el.autoplay = true;
    el.srcObject = ev.streams[0] ?? new MediaStream([ev.track]);
    document.body.appendChild(el);
  });
}

function track(s: RTCSession, direction: 'incoming' | 'outgoing', callId: string): void {
  session = s;
  sentSdp = '';
  info = {
    state: direction === 'incoming' ? 'ringing' : 'progress',
    direction,
    callId,
    cause: null,
    endedBy: null,
    remoteIdentity: s.remote_identity?.uri?.toString() ?? null,
  };
  s.on('sdp', (e) => {
    const from: string = e.originator;
    if (from !== 'local') return;
    if (loopbackOnly) e.sdp = keepLoopbackCandidates(e.sdp);
    sentSdp = e.sdp;
  });
  if (s.connection) attachRemoteAudio(s);
  else s.on('peerconnection', () => attachRemoteAudio(s));
  // An incoming call stays 'ringing' through its own 180 (JsSIP reports that as 'progress' too).
  if (direction === 'outgoing')
    s.on('progress', () => {
      if (info.state === 'progress') setState('progress');
    });
  s.on('confirmed', () => setState('confirmed'));
  s.on('ended', (e) => setState('ended', { cause: String(e.cause), endedBy: String(e.originator) }));
  s.on('failed', (e) => setState('failed', { cause: String(e.cause), endedBy: String(e.originator) }));
}

function currentSession(): RTCSession {
  if (!session) throw new Error('no call on this page');
  return session;
}

const api: PhoneApi = {
  register(wsUrl, uri, password, timeoutMs = 10_000) {
    if (ua) throw new Error('already registered on this page');
    const socket = new JsSIP.WebSocketInterface(wsUrl);
    const agent = new JsSIP.UA({
      sockets: [socket],
      uri,
      password,
      register: true,
      register_expires: 300,
      session_timers: false,
      user_agent: 'JsSIP-e2e',
      connection_recovery_min_interval: 2,
      connection_recovery_max_interval: 4,
    });
    ua = agent;
    // Fired synchronously inside ua.call() for outgoing calls, so no event of the session is missed.
    agent.on('newRTCSession', (e: IncomingRTCSessionEvent | OutgoingRTCSessionEvent) => {
      const from: string = e.originator;
      track(e.session, from === 'remote' ? 'incoming' : 'outgoing', e.request.getHeader('Call-ID'));
    });
    return new Promise<RegisterResult>((resolve) => {
      const timer = setTimeout(() => resolve({ ok: false, status: null, cause: 'timeout' }), timeoutMs);
      agent.on('registered', (e) => {
        clearTimeout(timer);
        resolve({ ok: true, status: e.response.status_code });
      });
      agent.on('registrationFailed', (e) => {
        clearTimeout(timer);
        resolve({ ok: false, status: e.response?.status_code ?? null, cause: String(e.cause) });
      });
      agent.start();
    });
  },

  call(target) {
    if (!ua) throw new Error('register first');
    ua.call(target, media);
  },

  answer() {
    currentSession().answer(media);
  },

  hangup() {
    currentSession().terminate();
  },

  callInfo() {
    return info;
  },

  async getStats() {
    const stats = { inboundBytes: 0, inboundPackets: 0, outboundBytes: 0, outboundPackets: 0 };
    let candidatePair: string | null = null;
    let localAddress: string | null = null;
    const pc = session?.connection;
    if (!pc) return { ...stats, candidatePair, localAddress } satisfies AudioStats;
    const report = await pc.getStats();
    let selectedPairId: string | undefined;
    report.forEach((r: Record<string, unknown>) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') {
        stats.inboundBytes += Number(r.bytesReceived ?? 0);
        stats.inboundPackets += Number(r.packetsReceived ?? 0);
      } else if (r.type === 'outbound-rtp' && r.kind === 'audio') {
        stats.outboundBytes += Number(r.bytesSent ?? 0);
        stats.outboundPackets += Number(r.packetsSent ?? 0);
      } else if (r.type === 'transport' && typeof r.selectedCandidatePairId === 'string') {
        selectedPairId = r.selectedCandidatePairId;
      }
    });
    const pair = selectedPairId ? (report.get(selectedPairId) as Record<string, unknown> | undefined) : undefined;
    if (pair) {
      candidatePair = String(pair.state);
      const local = report.get(String(pair.localCandidateId)) as Record<string, unknown> | undefined;
      const address = local?.address ?? local?.ip;
      localAddress = typeof address === 'string' ? address : null;
    }
    return { ...stats, candidatePair, localAddress };
  },

  sentCandidates() {
    return sentSdp.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
  },

  async stop() {
    const agent = ua;
    if (!agent) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 3_000);
      agent.on('disconnected', () => {
        clearTimeout(t);
        resolve();
      });
      agent.stop();
    });
    ua = null;
  },
};

declare global {
  interface Window {
    phone: PhoneApi;
  }
}

window.phone = api;
