import type { Page } from 'playwright-core';

/**
 * What the browser's WebRTC stack reports for a page, read the way chrome://webrtc-internals
 * does: from every RTCPeerConnection the page created, not from the app. The web phone never
 * learns about this (a wrapper around the global constructor, installed by the test).
 */
export interface PageMedia {
  /** Peer connections not closed. */
  readonly open: number;
  readonly audioPacketsIn: number;
  readonly audioBytesIn: number;
  readonly audioPacketsOut: number;
  readonly videoPacketsIn: number;
  readonly videoFramesIn: number;
  /** `direction/currentDirection` of every transceiver of the open connections. */
  readonly directions: string[];
  /** `enabled` of every local audio track being sent. */
  readonly audioSendEnabled: boolean[];
}

type PcWindow = { __handsetPcs?: RTCPeerConnection[] };

/** Page side: remember every RTCPeerConnection (idempotent; runs before the app or after). */
function recordPeerConnections(): void {
  const w = window as unknown as PcWindow & { RTCPeerConnection: typeof RTCPeerConnection };
  if (w.__handsetPcs) return;
  const list: RTCPeerConnection[] = [];
  w.__handsetPcs = list;
  const Native = w.RTCPeerConnection;
  w.RTCPeerConnection = class extends Native {
    constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
      super(...args);
      list.push(this);
    }
  };
}

/** Installs the recorder in `page` now and after every reload. */
export async function recordMedia(page: Page): Promise<void> {
  await page.context().addInitScript(recordPeerConnections);
  await page.evaluate(recordPeerConnections);
}

/** Totals over the page's open peer connections. */
export function pageMedia(page: Page): Promise<PageMedia> {
  return page.evaluate(async () => {
    const pcs = ((window as unknown as PcWindow).__handsetPcs ?? []).filter((pc) => pc.signalingState !== 'closed');
    const m = {
      open: pcs.length,
      audioPacketsIn: 0,
      audioBytesIn: 0,
      audioPacketsOut: 0,
      videoPacketsIn: 0,
      videoFramesIn: 0,
      directions: [] as string[],
      audioSendEnabled: [] as boolean[],
    };
    for (const pc of pcs) {
      const report = await pc.getStats();
      report.forEach((r: Record<string, unknown>) => {
        const n = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : 0);
        if (r.type === 'inbound-rtp' && r.kind === 'audio') {
          m.audioPacketsIn += n('packetsReceived');
          m.audioBytesIn += n('bytesReceived');
        } else if (r.type === 'inbound-rtp' && r.kind === 'video') {
          m.videoPacketsIn += n('packetsReceived');
          m.videoFramesIn += n('framesDecoded');
        } else if (r.type === 'outbound-rtp' && r.kind === 'audio') {
          m.audioPacketsOut += n('packetsSent');
        }
      });
      for (const t of pc.getTransceivers()) m.directions.push(`${t.direction}/${t.currentDirection ?? 'null'}`);
      for (const s of pc.getSenders()) if (s.track?.kind === 'audio') m.audioSendEnabled.push(s.track.enabled);
    }
    return m;
  });
}

/**
 * Share of lit pixels (not black) in a frame of the `<video>` that `selector` finds, drawn into
 * a canvas: what the user sees in that element. 0 while it shows nothing.
 */
export function videoLit(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    const v = document.querySelector<HTMLVideoElement>(sel);
    if (!v || v.videoWidth === 0 || v.readyState < 2) return 0;
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 48;
    const g = canvas.getContext('2d');
    if (!g) return 0;
    g.drawImage(v, 0, 0, 64, 48);
    const px = g.getImageData(0, 0, 64, 48).data;
    let lit = 0;
    for (let i = 0; i < px.length; i += 4) if ((px[i] ?? 0) + (px[i + 1] ?? 0) + (px[i + 2] ?? 0) > 60) lit++;
    return lit / (px.length / 4);
  }, selector);
}

/**
 * Page side: the microphone becomes a steady 440 Hz tone (the camera stays). Chromium's fake
 * microphone beeps so briefly that its echo canceller and noise suppressor leave silence, so
 * nothing would tell a muted call from an open one at the far end.
 */
function toneMicrophone(): void {
  const md = navigator.mediaDevices;
  const capture = md.getUserMedia.bind(md);
  md.getUserMedia = async (c?: MediaStreamConstraints) => {
    const stream = await capture(c);
    if (!c?.audio) return stream;
    // Called after the user's tap on Call or Answer, so the context may start.
    const ctx = new AudioContext();
    await ctx.resume();
    const osc = ctx.createOscillator();
    osc.frequency.value = 440;
    const out = ctx.createMediaStreamDestination();
    osc.connect(out);
    osc.start();
    for (const t of stream.getAudioTracks()) {
      stream.removeTrack(t);
      t.stop();
    }
    for (const t of out.stream.getAudioTracks()) stream.addTrack(t);
    return stream;
  };
}

/** Replaces `page`'s microphone by a 440 Hz tone, for the calls it makes from now on. */
export async function useToneMicrophone(page: Page): Promise<void> {
  await page.evaluate(toneMicrophone);
}

/**
 * Emulates the Page Visibility API: headless Chromium keeps every tab visible (bringToFront,
 * window minimize and background targets leave `document.hidden` false), so the test sets what
 * the browser would report when the user switches tabs and fires `visibilitychange`.
 */
export async function setTabHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

type ListenWindow = { __handsetDtmfHeard?: string[]; __handsetHeardEnergy?: number };

/**
 * Starts listening to the audio the page receives (the newest open call's remote track), for
 * its loudness ({@link heardEnergy}) and for DTMF ({@link dtmfHeard}). Chromium's jitter buffer plays RFC
 * 4733 telephone-events out as the tone pair (RFC 4733 §2.5.1.1 leaves that to the receiver), so
 * a Goertzel filter over the remote track hears which key was pressed. Keys heard accumulate in
 * order; {@link dtmfHeard} reads them. Needs a user gesture on the page first (AudioContext).
 */
export async function listenToRemoteAudio(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const w = window as unknown as PcWindow & ListenWindow;
    const pc = (w.__handsetPcs ?? []).filter((p) => p.signalingState !== 'closed').at(-1);
    const track = pc?.getReceivers().find((r) => r.track.kind === 'audio')?.track;
    if (!track) throw new Error('no remote audio track to listen to');
    const ctx = new AudioContext();
    await ctx.resume();
    // Chromium feeds a remote track into Web Audio only while a media element plays it.
    const el = new Audio();
    el.srcObject = new MediaStream([track]);
    await el.play();
    const src = ctx.createMediaStreamSource(new MediaStream([track]));
    // An AudioWorklet on the audio thread cuts the track into 512-sample frames and posts them;
    // a busy main thread then only delays the analysis (a ScriptProcessor would drop frames).
    const tap = `registerProcessor('handset-tap', class extends AudioWorkletProcessor {
      buf = new Float32Array(512); n = 0;
      process(inputs) {
        for (const v of inputs[0]?.[0] ?? []) {
          this.buf[this.n++] = v;
          if (this.n === 512) { this.port.postMessage(this.buf.slice()); this.n = 0; }
        }
        return true;
      }
    });`;
    await ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([tap], { type: 'text/javascript' })));
    const node = new AudioWorkletNode(ctx, 'handset-tap');
    const rows = [697, 770, 852, 941];
    const cols = [1209, 1336, 1477, 1633];
    const keys = ['1', '2', '3', 'A', '4', '5', '6', 'B', '7', '8', '9', 'C', '*', '0', '#', 'D'];
    const power = (x: Float32Array, f: number) => {
      const k = (2 * Math.cos((2 * Math.PI * f) / ctx.sampleRate)) as number;
      let s1 = 0;
      let s2 = 0;
      for (const v of x) {
        const s = v + k * s1 - s2;
        s2 = s1;
        s1 = s;
      }
      return (s1 * s1 + s2 * s2 - k * s1 * s2) / (x.length * x.length);
    };
    const heard: string[] = [];
    w.__handsetDtmfHeard = heard;
    w.__handsetHeardEnergy = 0;
    // A key counts once it holds for two frames; the same key again only after a gap of four
    // frames (the sender's inter-tone gap is 70 ms, six), so a frame of dropout is not a new press.
    let candidate = '';
    let held = 0;
    let lastKey = '';
    let silent = 0;
    let gapSeen = true;
    node.port.onmessage = (e: MessageEvent<Float32Array>) => {
      const x = e.data;
      let energy = 0;
      for (const v of x) energy += v * v;
      energy /= x.length;
      w.__handsetHeardEnergy! += energy;
      const pr = rows.map((f) => power(x, f));
      const pcol = cols.map((f) => power(x, f));
      const r = pr.indexOf(Math.max(...pr));
      const c = pcol.indexOf(Math.max(...pcol));
      // A key: one row and one column tone together carry most of the frame's energy.
      const tone = energy > 1e-5 && (pr[r]! + pcol[c]!) * 2 > energy * 0.6 ? keys[r * 4 + c]! : '';
      if (tone) {
        silent = 0;
        held = tone === candidate ? held + 1 : 1;
      } else {
        held = 0;
        // Two frames (~21 ms) without a key end a tone: the sender leaves 70 ms between tones, but
        // the receiver's jitter buffer shortens gaps when it catches up on a loaded machine (a run
        // merged the two 5s of "1559#*0" at four frames).
        if (++silent >= 2) gapSeen = true;
      }
      candidate = tone;
      if (held === 2 && (tone !== lastKey || gapSeen)) {
        heard.push(tone);
        lastKey = tone;
        gapSeen = false;
      }
    };
    src.connect(node);
    node.connect(ctx.destination);
  });
}

type SentWindow = { __handsetDtmfSent?: string[] };

/**
 * Starts recording the tones the page's newest open call sends: every `tonechange` of its audio
 * sender's RTCDTMFSender (the moment the browser starts playing a tone out as RFC 4733 events).
 * Tells a key press the app lost from a tone the far end did not hear.
 */
export async function recordDtmfSent(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as PcWindow & SentWindow;
    const pc = (w.__handsetPcs ?? []).filter((p) => p.signalingState !== 'closed').at(-1);
    const dtmf = pc?.getSenders().find((s) => s.track?.kind === 'audio')?.dtmf;
    if (!dtmf) throw new Error('no audio sender with DTMF to record');
    const sent: string[] = [];
    w.__handsetDtmfSent = sent;
    dtmf.addEventListener('tonechange', (e) => {
      const tone = (e as RTCDTMFToneChangeEvent).tone;
      if (tone) sent.push(tone);
    });
  });
}

/** Tones {@link recordDtmfSent} has seen the page start sending, in order. */
export function dtmfSent(page: Page): Promise<string[]> {
  return page.evaluate(() => [...((window as unknown as SentWindow).__handsetDtmfSent ?? [])]);
}

/** Keys {@link listenToRemoteAudio} has heard so far, in order. */
export function dtmfHeard(page: Page): Promise<string[]> {
  return page.evaluate(() => [...((window as unknown as ListenWindow).__handsetDtmfHeard ?? [])]);
}

/** Mean-square energy per frame that {@link listenToRemoteAudio} has heard so far, summed. */
export function heardEnergy(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as ListenWindow).__handsetHeardEnergy ?? 0);
}
