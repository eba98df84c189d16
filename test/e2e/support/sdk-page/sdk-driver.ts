/**
 * The browser side of the SDK e2e tests: a phone page driven from Node through `window.sdk`.
 * It uses the built IIFE bundle (`window.Handset`, loaded by the page before this script).
 */
import type * as HandsetSdk from '../../../../packages/sdk/src/index.js';
import type { PageCall, PageInfo, SdkDriver } from './driver-api.js';
import { loopbackOnly } from './loopback-sdp.js';

declare global {
  interface Window {
    Handset: typeof HandsetSdk;
    sdk: SdkDriver;
  }
}

const H = window.Handset;
let phone: HandsetSdk.Phone | undefined;
const all: HandsetSdk.Call[] = [];
const events: string[] = [];
const videos = new Map<string, HTMLVideoElement>();

function need(): HandsetSdk.Phone {
  if (!phone) throw new Error('start first');
  return phone;
}

function find(id?: string): HandsetSdk.Call {
  const live = need().calls;
  const c = id ? all.find((x) => x.id === id) : live[live.length - 1];
  if (!c) throw new Error(`no call ${id ?? ''}`);
  return c;
}

const view = (c: HandsetSdk.Call): PageCall => ({
  id: c.id,
  callId: c.callId,
  direction: c.direction,
  remoteUri: c.remoteUri,
  state: c.state,
  video: c.video,
  hold: c.holdState,
  end: c.end ? { by: c.end.by, cause: c.end.cause } : null,
});

function track(c: HandsetSdk.Call): void {
  all.push(c);
  events.push(`call:${c.id}:${c.direction}`);
  c.on('stateChanged', (s) => events.push(`state:${c.id}:${s}`));
  c.on('dtmf', (d) => events.push(`dtmf:${d.tone}`));
  c.on('dtmfSent', (t) => t && events.push(`dtmfSent:${t}`));
  c.on('iceRestarted', () => events.push(`iceRestarted:${c.id}`));
  c.on('transfer', (r) => events.push(`transfer:${r.ok ? 'ok' : r.cause}`));
  c.on('remoteStream', (stream) => {
    if (!c.video) return;
    const v = document.createElement('video');
    v.muted = true;
    v.autoplay = true;
    v.playsInline = true;
    v.srcObject = stream;
    document.body.appendChild(v);
    void v.play().catch(() => undefined);
    videos.set(c.id, v);
  });
}

const driver: SdkDriver = {
  async start(server, uri, password) {
    const p = new H.Phone({
      server,
      uri,
      password,
      iceServers: [],
      sdpTransform: loopbackOnly,
      reconnectPolicy: new H.ExponentialBackoffPolicy({ initialDelayMs: 300, maxDelayMs: 2000 }),
      sipTrace: new URLSearchParams(location.search).get('debug') === '1',
    });
    phone = p;
    p.on('registrationStateChanged', (s) => events.push(`registration:${s}`));
    p.on('connectionStateChanged', (s) => events.push(`connection:${s}`));
    p.on('reconnected', () => events.push('reconnected'));
    p.on('callAdded', track);
    p.on('incoming', (c) => events.push(`incoming:${c.id}`));
    await p.register();
  },
  async call(target, video) {
    return (await need().call(target, { video })).id;
  },
  async answer(id) {
    await find(id).answer();
  },
  hangup: (id) => find(id).hangup(),
  hold: (id) => find(id).hold(),
  unhold: (id) => find(id).unhold(),
  sendDTMF: (tones, transport, id) => find(id).sendDTMF(tones, { transport }),
  transfer: (target, id) => {
    // Resolves only when the target answers; the test follows it through the events instead.
    find(id)
      .transfer(target)
      .catch(() => undefined);
  },
  attendedTransfer: (fromId, toId) => {
    find(fromId)
      .attendedTransfer(find(toId))
      .catch(() => undefined);
  },
  swap: (id) => need().swap(find(id)),
  info(): PageInfo {
    return {
      registration: phone?.registrationState ?? 'none',
      connection: phone?.connectionState ?? 'none',
      calls: all.map(view),
      events: [...events],
    };
  },
  async stats(id) {
    const s = await find(id).getStats();
    return {
      audioIn: s.audio.packetsReceived,
      audioOut: s.audio.packetsSent,
      videoIn: s.video.packetsReceived,
      videoOut: s.video.packetsSent,
      audioBytesIn: s.audio.bytesReceived,
      rttMs: s.quality.rttMs,
      packetLoss: s.quality.packetLoss,
      jitterMs: s.quality.jitterMs,
    };
  },
  async remoteVideoLit(id) {
    const v = videos.get(find(id).id);
    if (!v || v.videoWidth === 0) return 0;
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 48;
    const g = canvas.getContext('2d');
    if (!g) return 0;
    g.drawImage(v, 0, 0, 64, 48);
    const px = g.getImageData(0, 0, 64, 48).data;
    let lit = 0;
    for (let i = 0; i < px.length; i += 4) if ((px[i] ?? 0) + (px[i + 1] ?? 0) + (px[i + 2] ?? 0) > 60) lit++;
    await Promise.resolve();
    return lit / (px.length / 4);
  },
  directions: (id) =>
    find(id)
      .peerConnection?.getTransceivers()
      .map((t) => `${t.direction}/${t.currentDirection ?? 'null'}`) ?? [],
  stop: () => phone?.close(),
};

window.sdk = driver;
