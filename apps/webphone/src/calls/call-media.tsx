import { useEffect, useRef } from 'preact/hooks';
import { useT } from '../shell/controller-context.js';
import type { CallView } from '../state/call-view.js';

/** The tracks of a call's peer connection (the SDK's Call exposes it). */
export type PeerConnectionOf = (id: string) => RTCPeerConnection | undefined;

/** Video calls: the remote picture and the own camera; audio calls: the other party's initial. */
export function CallMedia(p: { call: CallView; peerConnection: PeerConnectionOf }) {
  const t = useT();
  const remote = useRef<HTMLVideoElement>(null);
  const local = useRef<HTMLVideoElement>(null);
  const { call } = p;
  // Each render (a call event) checks for new tracks: they arrive after the answer.
  useEffect(() => {
    if (!call.video) return;
    const pc = p.peerConnection(call.id);
    if (!pc) return;
    const rTracks = pc
      .getReceivers()
      .map((r) => r.track)
      .filter((tr) => tr.kind === 'video');
    const lTracks = pc
      .getSenders()
      .map((s) => s.track)
      .filter((tr): tr is MediaStreamTrack => tr?.kind === 'video');
    if (remote.current && rTracks.length && !remote.current.srcObject)
      remote.current.srcObject = new MediaStream(rTracks);
    if (local.current && lTracks.length && !local.current.srcObject) local.current.srcObject = new MediaStream(lTracks);
  });
  if (!call.video)
    return (
      <div class="avatar" aria-hidden="true">
        {(call.label || call.number).slice(0, 1).toUpperCase()}
      </div>
    );
  return (
    <div class="videos">
      <video ref={remote} class="remote" autoplay playsInline muted aria-label={call.label} />
      <video ref={local} class="local" autoplay playsInline muted aria-label={t('you')} />
    </div>
  );
}
