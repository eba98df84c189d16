import type { BaresipAgent, BaresipRtpSummary } from './baresip.js';
import { analyzeWav, type ToneReport } from './wav.js';

/** What each end of a call experienced. */
export interface BaresipCallEnd {
  readonly rtp: BaresipRtpSummary;
  /** The received audio (sndfile's decode dump of this call). */
  readonly heard: ToneReport;
}

/** The outcome of callAndHangUp. */
export interface BaresipCall {
  /** The SIP Call-ID, as baresip reports it in call events (the same at both ends through a proxy). */
  readonly callId: string;
  readonly calleeCallId: string;
  readonly caller: BaresipCallEnd;
  readonly callee: BaresipCallEnd;
}

async function lastDecodeDump(agent: BaresipAgent): Promise<ToneReport> {
  const { decode } = await agent.recordings();
  const file = decode.at(-1);
  if (!file) throw new Error(`${agent.aor} wrote no decode recording\n--- baresip output ---\n${agent.output()}`);
  return analyzeWav(file);
}

/** Rejects as soon as the caller's call closes (e.g. 404, 480, 403) instead of timing out later. */
function closedBeforeEstablished(caller: BaresipAgent, since: number): Promise<never> {
  return caller.waitForEvent('CALL_CLOSED', { since, timeoutMs: 16_000 }).then(
    (e) =>
      Promise.reject(
        new Error(
          `call closed before it was established: ${String(e.param)}\n--- caller output ---\n${caller.output()}`,
        ),
      ),
    () => new Promise<never>(() => undefined),
  );
}

/**
 * `caller` dials `callee`'s AOR; both must reach CALL_ESTABLISHED (the callee answers by itself),
 * they talk for `talkMs`, the caller hangs up and both must see CALL_CLOSED.
 */
export async function callAndHangUp(caller: BaresipAgent, callee: BaresipAgent, talkMs = 3_000): Promise<BaresipCall> {
  const since = { caller: caller.events().length, callee: callee.events().length };
  const summaries = { caller: caller.rtpSummaries().length, callee: callee.rtpSummaries().length };
  const dialed = await caller.command('dial', callee.aor);
  if (!dialed.ok) throw new Error(`dial failed: ${dialed.data}\n--- caller output ---\n${caller.output()}`);
  const [established, answered] = await Promise.race([
    Promise.all([
      caller.waitForEvent('CALL_ESTABLISHED', { since: since.caller }),
      callee.waitForEvent('CALL_ESTABLISHED', { since: since.callee }),
    ]),
    closedBeforeEstablished(caller, since.caller),
  ]);
  await new Promise((r) => setTimeout(r, talkMs));
  const hungUp = await caller.command('hangup');
  if (!hungUp.ok) throw new Error(`hangup failed: ${hungUp.data}\n--- caller output ---\n${caller.output()}`);
  await Promise.all([
    caller.waitForEvent('CALL_CLOSED', { since: since.caller, where: (e) => e.id === established.id }),
    callee.waitForEvent('CALL_CLOSED', { since: since.callee, where: (e) => e.id === answered.id }),
  ]);
  const [callerRtp, calleeRtp] = await Promise.all([
    caller.waitForRtpSummary(summaries.caller),
    callee.waitForRtpSummary(summaries.callee),
  ]);
  return {
    callId: String(established.id),
    calleeCallId: String(answered.id),
    caller: { rtp: callerRtp, heard: await lastDecodeDump(caller) },
    callee: { rtp: calleeRtp, heard: await lastDecodeDump(callee) },
  };
}
