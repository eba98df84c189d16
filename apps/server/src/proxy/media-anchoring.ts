/**
 * Puts the media of calls through rtpengine where the two ends do not speak the same media
 * (WebRTC against plain SIP), for the whole dialog: the offer of each forked INVITE branch,
 * the answer of every 18x/2xx with SDP, re-INVITE and UPDATE offers and answers, and the
 * delete when the call ends (BYE, CANCEL, failure, dialog timeout: whatever closes its CDR).
 * When the call's rtpengine dies, an answered call is ended with a BYE to each side.
 */
import { newBranch, type SendTarget, SipRequest, type SipResponse } from '@handset/sip';
import type { Logger } from 'pino';
import { MediaError } from '../media/media-error.js';
import type { MediaPlane } from '../media/media-plane.js';
import { type MediaKind, sdpProfile } from '../media/sdp-profile.js';
import type { CallTracker } from './call-tracker.js';
import type { ClientTransactionHandler, ProxySipLayer, ServerTransactionLike } from './sip-layer.js';

/** A forked branch as the anchoring sees it. */
export interface BranchView {
  readonly request: SipRequest;
  readonly target: SendTarget;
}

/** Runs before a response of a forwarding goes upstream (may rewrite its body); undefined: nothing to do. */
export type ResponseFilter = (branch: BranchView, res: SipResponse) => Promise<void> | undefined;

/** Options of {@link MediaAnchoring}. */
export interface MediaAnchoringOptions {
  media: MediaPlane;
  layer: ProxySipLayer;
  calls: CallTracker;
  /** Our Via toward a target, with a new branch. */
  via: (target: SendTarget, branch: string) => string;
  logger?: Logger | undefined;
}

/** One side of an anchored dialog, as much as a BYE to it needs. */
interface DialogSide {
  /** Where requests to it go. */
  target: SendTarget;
  /** Its Contact (the Request-URI of requests to it). */
  contact: string;
  /** Its own name-addr with its tag (From of its requests). */
  self: string;
  /** Route set toward it beyond us. */
  routes: string[];
  kind: MediaKind;
  /** Highest CSeq it sent. */
  cseq: number;
}

/** An anchored call. */
interface AnchoredCall {
  callerTag: string;
  caller: DialogSide;
  /** Kind of each offered branch, by its Via branch. */
  branchKinds: Map<string, MediaKind>;
  /** Set by the first 2xx. */
  callee: (DialogSide & { tag: string }) | undefined;
  ended: boolean;
}

/** The reason text of a 488 when media cannot be bridged. */
export function mediaRefusal(why: string): [string, string][] {
  const text = `Media not possible: ${why}`.replace(/["\\\r\n]/g, '');
  return [
    ['Reason', `SIP;cause=488;text="${text}"`],
    ['Warning', `399 handset "${text}"`],
  ];
}

/** The media kind a device reached over this transport gets when we offer to it. */
function kindOfTarget(protocol: SendTarget['protocol'], callerKind: MediaKind): MediaKind {
  if (protocol === 'ws' || protocol === 'wss') return 'webrtc';
  // A phone that signals over TLS (SessionTalk and desk phones set for security) wants SRTP with SDES.
  if (protocol === 'tls' && callerKind !== 'rtp') return 'sdes';
  return callerKind === 'webrtc' ? 'rtp' : callerKind;
}

const IGNORE: ClientTransactionHandler = { onResponse() {}, onTimeout() {}, onTransportError() {} };

/** Anchoring of calls through the media plane, keyed by Call-ID. */
export class MediaAnchoring {
  private readonly anchored = new Map<string, AnchoredCall>();

  constructor(private readonly o: MediaAnchoringOptions) {
    o.calls.on('ended', (cdr) => this.forget(cdr.callId));
    o.media.on('lost', (callIds) => {
      for (const id of callIds) this.teardown(id, 'Media relay lost');
    });
  }

  /** Calls whose media runs through rtpengine now. */
  get size(): number {
    return this.anchored.size;
  }

  /** True when the call is anchored. */
  has(callId: string): boolean {
    return this.anchored.has(callId);
  }

  /**
   * Anchors one branch of an initial INVITE when its two ends need it; rewrites its SDP.
   * Resolves false when it needs rtpengine and none can take it (the branch is not sent).
   */
  async offerBranch(txn: ServerTransactionLike, callId: string, branch: BranchView): Promise<boolean> {
    const req = branch.request;
    if (req.method !== 'INVITE' || req.body.length === 0) return true;
    const profile = sdpProfile(req.body.toString('utf8'));
    if (!profile) return true;
    const toward = kindOfTarget(branch.target.protocol, profile.kind);
    if (!this.o.media.needsAnchor(profile.kind, toward)) return true;
    if (!this.o.media.available) return false;
    const fromTag = req.from.params.get('tag') ?? '';
    const viaBranch = req.topVia.params.get('branch') ?? undefined;
    try {
      const sdp = await this.o.media.offer(callId, toward, {
        fromTag,
        sdp: req.body.toString('utf8'),
        viaBranch,
        receivedFrom: txn.flow.remote.address,
        codecs: profile.codecs,
        fromKind: profile.kind,
      });
      req.body = Buffer.from(sdp);
    } catch (err) {
      this.o.logger?.warn({ err, callId }, 'rtpengine could not take the offer');
      return false;
    }
    let call = this.anchored.get(callId);
    if (!call) {
      const original = txn.request;
      call = {
        callerTag: fromTag,
        caller: {
          target: { ...flowTargetOf(txn), flowId: txn.flow.id },
          contact: contactUri(original) ?? original.from.uri,
          self: original.getHeader('from') ?? '',
          // Record-Route entries already on the INVITE lead back to the caller (reversed, §12.1.2).
          routes: original.getHeaders('record-route').slice().reverse(),
          kind: profile.kind,
          cseq: original.cseq.seq,
        },
        branchKinds: new Map(),
        callee: undefined,
        ended: false,
      };
      this.anchored.set(callId, call);
    }
    if (viaBranch !== undefined) call.branchKinds.set(viaBranch, toward);
    return true;
  }

  /** The filter of an initial INVITE's forwarding: answers of anchored branches go through rtpengine. */
  inviteFilter(callId: string): ResponseFilter {
    return (branch, res) => {
      const call = this.anchored.get(callId);
      if (!call) return undefined;
      return this.onInviteResponse(callId, call, branch, res);
    };
  }

  /**
   * An in-dialog request of an anchored call: a re-INVITE or UPDATE offer goes through rtpengine
   * toward the other side (hold, resume, ICE restart). Returns the filter for its answer.
   * Throws MediaError when the offer cannot be anchored (the proxy answers 488).
   */
  async inDialog(req: SipRequest): Promise<ResponseFilter | undefined> {
    const callId = req.callId;
    const call = this.anchored.get(callId);
    if (!call) return undefined;
    const fromTag = req.from.params.get('tag') ?? '';
    const toTag = req.to.params.get('tag') ?? '';
    const fromCaller = fromTag === call.callerTag;
    const sender = fromCaller ? call.caller : call.callee;
    if (sender) sender.cseq = Math.max(sender.cseq, req.cseq.seq);
    if ((req.method !== 'INVITE' && req.method !== 'UPDATE') || req.body.length === 0) return undefined;
    const toward = fromCaller ? (call.callee?.kind ?? 'rtp') : call.caller.kind;
    const body = req.body.toString('utf8');
    const profile = sdpProfile(body);
    const sdp = await this.o.media.offer(callId, toward, {
      fromTag,
      toTag,
      sdp: body,
      codecs: profile?.codecs,
      fromKind: profile?.kind,
    });
    req.body = Buffer.from(sdp);
    return (_branch, res) => {
      if (res.status < 200 || res.status >= 300 || res.body.length === 0) return undefined;
      return this.o.media
        .answer(callId, { fromTag, toTag, sdp: res.body.toString('utf8') })
        .then((answer) => {
          res.body = Buffer.from(answer);
        })
        .catch((err: unknown) => {
          this.o.logger?.warn({ err, callId }, 'rtpengine could not take the answer of a re-offer');
        });
    };
  }

  /** Ends the media of a call and forgets it (its CDR closed). */
  forget(callId: string): void {
    const call = this.anchored.get(callId);
    if (!call) return;
    call.ended = true;
    this.anchored.delete(callId);
    void this.o.media.delete(callId);
  }

  private async onInviteResponse(callId: string, call: AnchoredCall, branch: BranchView, res: SipResponse) {
    const status = res.status;
    if (status < 101 || status >= 300 || res.body.length === 0) return;
    const viaBranch = branch.request.topVia.params.get('branch') ?? undefined;
    const kind = viaBranch !== undefined ? call.branchKinds.get(viaBranch) : undefined;
    // A branch of a mixed fork that needed no anchoring (a browser ringing beside a desk phone) answers as it is.
    if (kind === undefined) return;
    const toTag = res.to.params.get('tag') ?? '';
    const ok = status >= 200;
    try {
      const sdp = await this.o.media.answer(callId, {
        fromTag: call.callerTag,
        toTag,
        sdp: res.body.toString('utf8'),
        viaBranch,
        receivedFrom: branch.target.address,
      });
      res.body = Buffer.from(sdp);
    } catch (err) {
      this.o.logger?.warn({ err, callId, status }, 'rtpengine could not take the answer');
      if (!ok) {
        // Early media cannot be bridged: the ringing still goes upstream, without its SDP.
        res.body = Buffer.alloc(0);
        res.removeHeader('content-type');
        return;
      }
      // The 2xx must go upstream (the callee retransmits it otherwise); the call then ends at once.
      setImmediate(() => this.teardown(callId, err instanceof MediaError ? err.message : 'media relay failed'));
    }
    if (ok && !call.callee) {
      call.callee = {
        tag: toTag,
        target: branch.target,
        contact: contactUri(res) ?? branch.request.uri,
        self: res.getHeader('to') ?? '',
        routes: branch.request.getHeaders('route'),
        kind,
        cseq: 0,
      };
    }
  }

  /**
   * The call lost its media: an answered call gets a BYE to each side and its CDR closed; a call
   * still ringing is left to its answer (which then fails and ends it the same way).
   */
  private teardown(callId: string, reason: string): void {
    const call = this.anchored.get(callId);
    if (!call || call.ended) return;
    const callee = call.callee;
    if (!callee) {
      this.anchored.delete(callId);
      return;
    }
    call.ended = true;
    const reasonHeader = `SIP;cause=503;text="${reason.replace(/["\\\r\n]/g, '')}"`;
    // To the callee, as from the caller; to the caller, as from the callee (RFC 3261 §15.1.1).
    this.sendBye(callId, callee, call.caller.self, callee.self, call.caller.cseq + 1, reasonHeader);
    this.sendBye(callId, call.caller, callee.self, call.caller.self, callee.cseq + 1, reasonHeader);
    this.o.logger?.warn({ callId, reason }, 'call ended: its media relay is gone');
    this.o.calls.end(callId, { status: 503, reason, hangupBy: 'system' });
    this.forget(callId);
  }

  private sendBye(callId: string, to: DialogSide, from: string, toHeader: string, cseq: number, reason: string) {
    try {
      const bye = new SipRequest('BYE', to.contact);
      bye.appendHeader('Via', this.o.via(to.target, newBranch()));
      for (const r of to.routes) bye.appendHeader('Route', r);
      bye.appendHeader('Max-Forwards', '70');
      bye.appendHeader('From', from);
      bye.appendHeader('To', toHeader);
      bye.appendHeader('Call-ID', callId);
      bye.appendHeader('CSeq', `${cseq} BYE`);
      bye.appendHeader('Reason', reason);
      this.o.layer.sendRequest(bye, to.target, IGNORE);
    } catch (err) {
      this.o.logger?.warn({ err, callId }, 'could not send a BYE for a call without media');
    }
  }
}

function flowTargetOf(txn: ServerTransactionLike): SendTarget {
  return { protocol: txn.flow.protocol, address: txn.flow.remote.address, port: txn.flow.remote.port };
}

function contactUri(msg: SipRequest | SipResponse): string | undefined {
  const c = msg.contacts;
  return c === '*' ? undefined : c[0]?.uri;
}
