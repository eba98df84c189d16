/** RFC 3261 §17 timer values (Table 4 in Appendix A), derived once from T1, T2 and T4. */
import { TransactionError } from './transaction-error.js';

/** Every transaction timer in milliseconds, named as RFC 3261 and RFC 6026 name them. */
export interface TimerValues {
  /** RTT estimate (default 500 ms). */
  readonly T1: number;
  /** Maximum retransmission interval for non-INVITE requests and INVITE responses (default 4 s). */
  readonly T2: number;
  /** Maximum time a message can remain in the network (default 5 s). */
  readonly T4: number;
  /** INVITE request retransmit, initially T1, doubling (§17.1.1.2). */
  readonly TIMER_A: number;
  /** INVITE transaction timeout, 64*T1 (§17.1.1.2). */
  readonly TIMER_B: number;
  /** Wait for response retransmits, > 32 s over unreliable transports (§17.1.1.2). */
  readonly TIMER_D: number;
  /** Non-INVITE request retransmit, initially T1, doubling up to T2 (§17.1.2.2). */
  readonly TIMER_E: number;
  /** Non-INVITE transaction timeout, 64*T1 (§17.1.2.2). */
  readonly TIMER_F: number;
  /** INVITE response retransmit, initially T1, doubling up to T2 (§17.2.1). */
  readonly TIMER_G: number;
  /** Wait for ACK receipt, 64*T1 (§17.2.1). */
  readonly TIMER_H: number;
  /** Wait for ACK retransmits, T4 (§17.2.1). */
  readonly TIMER_I: number;
  /** Wait for non-INVITE request retransmits, 64*T1 (§17.2.2). */
  readonly TIMER_J: number;
  /** Wait for non-INVITE response retransmits, T4 (§17.1.2.2). */
  readonly TIMER_K: number;
  /** Server INVITE: wait for 2xx retransmissions from the TU and ACKs, 64*T1 (RFC 6026 §8.7). */
  readonly TIMER_L: number;
  /** Client INVITE: wait for retransmitted and forked 2xx, 64*T1 (RFC 6026 §8.4). */
  readonly TIMER_M: number;
  /** Server INVITE: send 100 Trying when the TU has not answered within 200 ms (§17.2.1). */
  readonly TIMER_TRYING: number;
}

/** The base intervals; any left out takes the RFC 3261 default. */
export interface TimerBaseValues {
  t1?: number | undefined;
  t2?: number | undefined;
  t4?: number | undefined;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new TransactionError('INVALID_OPTION', `${name} must be a positive number of milliseconds`);
  return value;
}

/** Derives every named timer from T1, T2, T4 (defaults 500 ms, 4 s, 5 s per RFC 3261 §17.1.1.1). */
export function resolveTimerValues(base: TimerBaseValues = {}): TimerValues {
  const T1 = positive('t1', base.t1 ?? 500);
  const T2 = positive('t2', base.t2 ?? 4000);
  const T4 = positive('t4', base.t4 ?? 5000);
  return Object.freeze({
    T1,
    T2,
    T4,
    TIMER_A: T1,
    TIMER_B: 64 * T1,
    TIMER_D: 32_000,
    TIMER_E: T1,
    TIMER_F: 64 * T1,
    TIMER_G: T1,
    TIMER_H: 64 * T1,
    TIMER_I: T4,
    TIMER_J: 64 * T1,
    TIMER_K: T4,
    TIMER_L: 64 * T1,
    TIMER_M: 64 * T1,
    TIMER_TRYING: 200,
  });
}
