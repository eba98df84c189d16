/**
 * One stateful forwarding of a request to one or more branches (RFC 3261 §16.6-16.10):
 * parallel forking, provisional relay, best-response selection, CANCEL of pending branches,
 * and the ring timeout (in the role of Timer C, §16.6 step 11).
 */
import {
  type SendTarget,
  type SipRequest,
  SipRequest as Req,
  type SipResponse,
  createResponse,
  newTag,
} from '@handset/sip';
import type { ResponseFilter } from './media-anchoring.js';
import { mergeChallenges, selectBestResponse } from './response-selection.js';
import type { ClientTransactionHandler, ProxySipLayer, ServerTransactionLike } from './sip-layer.js';

/** Forwarding progress of one branch. */
type BranchState = 'calling' | 'proceeding' | 'completed';

/**
 * One forked branch, and the handler of its client transaction: one object per branch instead of a
 * closure per callback (the transaction keeps its handler for Timer M, 32 s after a 2xx).
 */
class Branch implements ClientTransactionHandler {
  state: BranchState = 'calling';
  /** CANCEL wanted before a provisional response arrived (§9.1: wait for it). */
  cancelPending = false;
  /** Its stage rang out (sequential forking): cancelled, and its failure no longer counts. */
  abandoned = false;

  constructor(
    private readonly forwarding: Forwarding,
    readonly request: SipRequest,
    readonly target: SendTarget,
    readonly device: string,
  ) {}

  onResponse(res: SipResponse): void {
    this.forwarding.receive(this, res);
  }

  // §16.7 step 6 / §17.1.4: a timeout counts as 408, a transport failure as 480 from that branch.
  // Built from the branch request, they carry our Via on top like a received response, and a To tag
  // (§8.2.6.2) since they may go upstream as the final answer.
  onTimeout(): void {
    this.onResponse(createResponse(this.request, 408, { reason: 'Request Timeout', toTag: newTag() }));
  }

  onTransportError(): void {
    this.onResponse(createResponse(this.request, 480, { reason: 'Device unreachable', toTag: newTag() }));
  }
}

/** The handler of a CANCEL we send: its answer changes nothing (the INVITE's own final response does). */
const IGNORE: ClientTransactionHandler = { onResponse() {}, onTimeout() {}, onTransportError() {} };

/** What the proxy learns from a forwarding (for CDRs and metrics). */
export interface ForwardingObserver {
  /** A 2xx went upstream (first one only for INVITE). */
  onAnswered?(res: SipResponse, device: string): void;
  /** The final non-2xx response that went upstream. */
  onFailed?(res: SipResponse): void;
}

/** Options of one forwarding. */
export interface ForwardingOptions {
  layer: ProxySipLayer;
  server: ServerTransactionLike;
  /** For INVITE: no final answer within this time cancels the branches (default 60 s). */
  ringTimeoutMs?: number;
  observer?: ForwardingObserver;
  /**
   * Sequential forking (ring groups): called when every branch so far failed or its stage rang
   * out; adds the next stage's branches and resolves true, or false when none are left.
   */
  nextStage?: () => Promise<boolean>;
  /** With nextStage: how long one stage rings before the next starts. */
  stageTimeoutMs?: number;
  /** Sees (and may rewrite) each response before it is handled: media anchoring's SDP answers. */
  responseFilter?: ResponseFilter | undefined;
}

/** A stateful forwarding with parallel branches. */
export class Forwarding {
  private readonly branches: Branch[] = [];
  private readonly finals: SipResponse[] = [];
  private finalSent = false;
  private answered = false;
  private ringTimer: NodeJS.Timeout | undefined;
  private stageTimer: NodeJS.Timeout | undefined;
  private advancing = false;
  /** Responses wait here in order once the filter took one asynchronously (a 183 before its 200). */
  private filtered: Promise<void> | undefined;
  private stagesDone: boolean;
  private readonly isInvite: boolean;
  /** Called once when the final response has gone upstream. */
  onDone: (() => void) | undefined;

  constructor(private readonly o: ForwardingOptions) {
    this.isInvite = o.server.request.method === 'INVITE';
    if (this.isInvite) {
      this.ringTimer = setTimeout(() => this.onRingTimeout(), o.ringTimeoutMs ?? 60_000);
      this.ringTimer.unref();
    }
    this.stagesDone = o.nextStage === undefined;
    this.startStageTimer();
  }

  /** Sends one branch; `request` already carries our Via, routes and target URI. */
  addBranch(request: SipRequest, target: SendTarget, device: string): void {
    const branch = new Branch(this, request, target, device);
    this.branches.push(branch);
    this.o.layer.sendRequest(request, target, branch);
  }

  /** CANCEL from upstream (§16.10) or a local decision: cancels every branch without a final response. */
  cancel(reason?: string): void {
    clearTimeout(this.ringTimer);
    this.endStages();
    for (const b of this.branches) {
      if (b.state === 'completed') continue;
      if (b.state === 'proceeding') this.sendCancel(b, reason);
      else b.cancelPending = true;
    }
    // Nobody answered even provisionally: the caller should not wait for Timer B on dead branches.
    if (!this.finalSent && this.branches.every((b) => b.state !== 'proceeding')) {
      this.sendFinal(createResponse(this.o.server.request, 487, { toTag: 'cancelled' }));
    }
  }

  /** Ends the forwarding with a final response of our own (no branch could be sent). */
  reject(res: SipResponse): void {
    this.sendFinal(res);
    this.cancel();
  }

  /** A response on one branch, through the response filter when there is one. @internal */
  receive(branch: Branch, res: SipResponse): void {
    const filter = this.o.responseFilter;
    if (filter === undefined) return this.branchResponse(branch, res);
    if (this.filtered === undefined) {
      const pending = filter(branch, res);
      if (pending === undefined) return this.branchResponse(branch, res);
      this.filtered = pending.catch(() => {}).then(() => this.branchResponse(branch, res));
      return;
    }
    this.filtered = this.filtered
      .then(() => filter(branch, res))
      .catch(() => {})
      .then(() => this.branchResponse(branch, res));
  }

  /** A response (or a timeout's 408, a transport failure's 480) on one branch. @internal */
  branchResponse(branch: Branch, res: SipResponse): void {
    res.removeFirstValue('via'); // §16.7 step 3: our Via goes
    const status = res.status;
    if (status < 200) {
      if (branch.state === 'calling') branch.state = 'proceeding';
      if (branch.cancelPending) {
        branch.cancelPending = false;
        this.sendCancel(branch);
      }
      // §16.7 step 5: provisional responses other than 100 go upstream at once.
      if (status > 100 && !this.finalSent) this.o.server.respond(res);
      return;
    }
    if (branch.state === 'completed' && !(status < 300 && this.isInvite)) return;
    branch.state = 'completed';
    if (status < 300) {
      // §16.7 step 5: every 2xx goes upstream; §16.7 step 10: the others are cancelled.
      const first = !this.answered;
      this.answered = true;
      this.finalSent = true;
      clearTimeout(this.ringTimer);
      this.endStages();
      this.o.server.respond(res);
      if (first) this.onDone?.();
      if (first) {
        this.o.observer?.onAnswered?.(res, branch.device);
        if (this.isInvite) this.cancel();
      }
      return;
    }
    // The 487 of a stage we cancelled ourselves is not an answer from the callee.
    if (!branch.abandoned) this.finals.push(res);
    if (status >= 600 && this.isInvite) this.cancel(); // §16.7 step 6: a 6xx ends the search
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.finalSent || this.branches.some((b) => b.state !== 'completed' && !b.abandoned)) return;
    if (!this.stagesDone) {
      this.advance();
      return;
    }
    const best =
      selectBestResponse(this.finals) ??
      createResponse(this.o.server.request, 480, { reason: 'No Answer', toTag: 'noanswer' });
    mergeChallenges(best, this.finals);
    if (best.status === 503) {
      best.status = 500; // §16.7 step 6: a 503 is not passed on
      best.reason = 'Server Internal Error';
    }
    this.sendFinal(best);
  }

  private sendFinal(res: SipResponse): void {
    if (this.finalSent) return;
    this.finalSent = true;
    clearTimeout(this.ringTimer);
    this.endStages();
    this.o.server.respond(res);
    this.onDone?.();
    if (res.status >= 300) this.o.observer?.onFailed?.(res);
  }

  /** Sequential forking: the current stage failed or rang out; start the next one, or finish. */
  private advance(): void {
    if (this.advancing || this.finalSent || this.stagesDone) return;
    this.advancing = true;
    clearTimeout(this.stageTimer);
    this.o.nextStage!().then(
      (added) => {
        this.advancing = false;
        if (added) this.startStageTimer();
        else {
          this.stagesDone = true;
          this.maybeFinish();
        }
      },
      () => {
        this.advancing = false;
        this.stagesDone = true;
        this.maybeFinish();
      },
    );
  }

  private startStageTimer(): void {
    if (this.stagesDone || this.o.stageTimeoutMs === undefined) return;
    this.stageTimer = setTimeout(() => {
      for (const b of this.branches) {
        if (b.state === 'completed' || b.abandoned) continue;
        b.abandoned = true;
        if (b.state === 'proceeding') this.sendCancel(b);
        else b.cancelPending = true;
      }
      this.advance();
    }, this.o.stageTimeoutMs);
    this.stageTimer.unref();
  }

  private endStages(): void {
    this.stagesDone = true;
    clearTimeout(this.stageTimer);
  }

  private onRingTimeout(): void {
    if (this.finalSent) return;
    // Devices that already refused (486 from one phone while another rang on) still count.
    const noAnswer = createResponse(this.o.server.request, 480, { reason: 'No Answer', toTag: 'noanswer' });
    this.sendFinal(selectBestResponse([...this.finals, noAnswer]) ?? noAnswer);
    this.cancel();
  }

  /** §9.1: CANCEL copies Request-URI, Call-ID, To, From, CSeq number, Route and the top Via of the branch. */
  private sendCancel(branch: Branch, reason?: string): void {
    const inv = branch.request;
    const cancel = new Req('CANCEL', inv.uri);
    cancel.appendHeader('Via', inv.getHeaders('via')[0]!);
    for (const r of inv.getHeaders('route')) cancel.appendHeader('Route', r);
    cancel.appendHeader('Max-Forwards', '70');
    cancel.appendHeader('From', inv.getHeader('from')!);
    cancel.appendHeader('To', inv.getHeader('to')!);
    cancel.appendHeader('Call-ID', inv.callId);
    cancel.appendHeader('CSeq', `${inv.cseq.seq} CANCEL`);
    if (reason !== undefined) cancel.appendHeader('Reason', reason);
    this.o.layer.sendRequest(cancel, branch.target, IGNORE);
  }
}
