import type { Call } from '@handset/sdk';
import { CallState } from './sdk-states.js';
import { errorText } from '@handset/ui';
import type { WebphoneController } from './webphone-controller.js';
import { setSipTrace } from './sip-trace.js';

const DEBUG_CODE = '*#0*#';
const TRACE_KEY = 'handset.sipTrace';

/**
 * What the call screens and pages do, by call id: dial, answer (the call in conversation goes
 * on hold first), hold, mute, DTMF, transfers and swap. A refusal becomes a toast.
 */
export class CallActions {
  private audioUnlocked = false;

  constructor(private readonly c: WebphoneController) {
    // Browsers play audio only after a user gesture: the first tap unlocks it, so the first call rings.
    c.d.win.document.addEventListener('pointerdown', () => this.unlockAudio(), { once: true });
  }

  /** Calls `target`; the calls in conversation go on hold. */
  async dial(target: string, video = false): Promise<void> {
    const to = target.trim();
    if (!to) return;
    if (!this.c.secure) {
      this.c.toasts.show(this.insecureText());
      return;
    }
    const phone = this.c.phone;
    if (!phone) return;
    const { ui, t } = this.c;
    this.unlockAudio();
    this.holdOthers(undefined);
    ui.addingCall.value = false;
    try {
      await phone.call(to, { video });
      ui.number.value = '';
    } catch (err) {
      this.c.toasts.show(t('callFailed', { reason: errorText(err) }));
    }
  }

  /** "Calls need HTTPS: ..." for this page's origin. */
  insecureText(): string {
    const loc = this.c.d.win.location;
    return this.c.t('insecure', { origin: loc.origin, host: loc.hostname });
  }

  answer(id: string): void {
    const call = this.call(id);
    if (!call) return;
    this.unlockAudio();
    this.holdOthers(call);
    this.safely(() => call.answer({ video: call.video }));
  }

  decline(id: string): void {
    this.safely(() => this.call(id)?.reject());
  }

  hangup(id: string): void {
    this.safely(() => this.call(id)?.hangup());
  }

  toggleMute(id: string): void {
    const call = this.call(id);
    this.safely(() => (call?.muteState.audio ? call.unmute() : call?.mute()));
  }

  toggleHold(id: string): void {
    const call = this.call(id);
    this.safely(() => (call?.holdState.local ? call.unhold() : call?.hold()));
  }

  dtmf(id: string, key: string): void {
    this.safely(() => this.call(id)?.sendDTMF(key));
  }

  /** Makes `id` the call in conversation: the others go on hold, it resumes. */
  swapTo(id: string): void {
    const call = this.call(id);
    if (!call) return;
    this.holdOthers(call);
    if (call.holdState.local) this.safely(() => call.unhold());
  }

  /** Blind transfer (REFER) of `id` to `target`. */
  transfer(id: string, target: string): void {
    const call = this.call(id);
    if (!call || !target.trim()) return;
    this.safely(() => call.transfer(target.trim()).then(() => (this.c.ui.transferOpen.value = false)));
  }

  /**
   * Attended transfer between `id` and the other call in conversation: the held party is the
   * transferee and gets the REFER, with Replaces naming the dialog with the consulted party
   * (RFC 5589 §7.1), wherever the user pressed.
   */
  completeTransfer(id: string, otherId: string): void {
    const a = this.call(id);
    const b = this.call(otherId);
    if (!a || !b) return;
    const [transferee, target] = a.holdState.local ? [a, b] : [b, a];
    this.safely(() => transferee.attendedTransfer(target).then(() => (this.c.ui.transferOpen.value = false)));
  }

  /** The dialpad's number: dialable characters only, and the `*#0*#` SIP log switch. */
  setNumber(v: string): void {
    const clean = v.replace(/[^0-9*#+a-zA-Z@._-]/g, '').slice(0, 128);
    this.c.ui.number.value = clean;
    if (!clean.endsWith(DEBUG_CODE)) return;
    this.c.ui.number.value = '';
    const { storage, log, win } = this.c.d;
    const on = storage.getItem(TRACE_KEY) !== '1';
    storage.setItem(TRACE_KEY, on ? '1' : '0');
    log(on ? '[handset] SIP logging on' : '[handset] SIP logging off');
    // On at once, without re-registering: during a call too (typed on the dialpad of "Add call").
    void this.c.d
      .loadSdk()
      .then((sdk) => setSipTrace(on, storage, sdk.Phone))
      .catch((e: unknown) => this.c.toasts.error(e));
    const calls = this.c.store.value?.calls.value.length ?? 0;
    this.c.toasts.show(this.c.t(on ? 'sipLogOn' : calls ? 'sipLogOffLater' : 'sipLogOff'));
    // Off needs a fresh page (see sip-trace.ts); the stored session signs straight back in.
    if (!on && calls === 0) setTimeout(() => win.location.reload(), 300);
  }

  private call(id: string): Call | undefined {
    return this.c.store.value?.call(id);
  }

  private holdOthers(keep: Call | undefined): void {
    for (const o of this.c.phone?.calls ?? [])
      if (o !== keep && o.state === CallState.Active && !o.holdState.local) this.safely(() => o.hold());
  }

  /** Runs a control's action; a refusal (say, hold while a re-INVITE is pending) becomes a toast. */
  private safely(action: () => unknown): void {
    try {
      const r = action();
      if (r instanceof Promise) r.catch((e: unknown) => this.c.toasts.error(e));
    } catch (e) {
      this.c.toasts.error(e);
    }
  }

  private unlockAudio(): void {
    if (this.audioUnlocked) return;
    this.audioUnlocked = true;
    const a = new Audio(this.c.d.ringtoneUrl);
    a.muted = true;
    void a
      .play()
      .then(() => a.pause())
      .catch(() => undefined);
  }
}
