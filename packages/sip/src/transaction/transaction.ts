import type { SipRequest } from '../message.js';
import type { TransactionContext } from './transaction-context.js';
import { TransactionError } from './transaction-error.js';
import { TransactionState } from './transaction-state.js';

/** The moves a state machine allows: from-state -> reachable states. */
export type TransitionTable = Readonly<Partial<Record<TransactionState, readonly TransactionState[]>>>;

/**
 * What the four transaction state machines share: the request that created the
 * transaction, the key the layer files it under, and one `transition(to)` that
 * rejects moves the machine's table does not list.
 */
export abstract class Transaction {
  /** The key the layer matches messages on (RFC 3261 §17.1.3 / §17.2.3). */
  readonly key: string;
  /** The request that created the transaction. */
  readonly request: SipRequest;
  protected readonly context: TransactionContext;
  private current: TransactionState;
  private readonly table: TransitionTable;
  private expired = false;

  protected constructor(
    context: TransactionContext,
    key: string,
    request: SipRequest,
    initial: TransactionState,
    table: TransitionTable,
  ) {
    this.context = context;
    this.key = key;
    this.request = request;
    this.current = initial;
    this.table = table;
  }

  /** The current state. */
  get state(): TransactionState {
    return this.current;
  }

  /** True once the transaction has reached Terminated (or the layer closed it). */
  get terminated(): boolean {
    return this.state === TransactionState.Terminated;
  }

  /** True when the transaction ended on a timeout (Timer B, F or H). */
  get timedOut(): boolean {
    return this.expired;
  }

  /** Records that a timeout (Timer B, F or H) is ending the transaction. */
  protected markTimedOut(): void {
    this.expired = true;
  }

  /** Moves to `to`; throws TransactionError('INVALID_TRANSITION') on a move the table does not allow. */
  protected transition(to: TransactionState): void {
    const allowed = this.table[this.current];
    if (allowed === undefined || !allowed.includes(to)) {
      throw new TransactionError(
        'INVALID_TRANSITION',
        `${this.constructor.name}: ${this.current} -> ${to} is not allowed`,
      );
    }
    this.current = to;
    if (to === TransactionState.Terminated) {
      this.clearTimers();
      this.context.terminated(this);
      this.notifyTerminated();
    }
  }

  /**
   * Ends the transaction without telling anyone (the layer is closing): clears its
   * timers and marks it Terminated. Idempotent.
   * @internal
   */
  dispose(): void {
    if (this.current === TransactionState.Terminated) return;
    this.current = TransactionState.Terminated;
    this.clearTimers();
  }

  /** Cancels every pending timer of the machine. */
  protected abstract clearTimers(): void;

  /** Tells the TU the transaction ended. */
  protected abstract notifyTerminated(): void;

  /** Schedules a timer on the layer's clock. */
  protected startTimer(ms: number, fire: () => void): unknown {
    return this.context.timers.setTimeout(fire, ms);
  }

  /** Cancels a timer if set; returns undefined to assign back to the field. */
  protected stopTimer(handle: unknown): undefined {
    if (handle !== undefined) this.context.timers.clearTimeout(handle);
    return undefined;
  }

  /** Runs a TU callback so that a throwing TU cannot break the state machine. */
  protected safely(what: string, callback: () => void): void {
    try {
      callback();
    } catch (err) {
      this.context.logger.warn(
        { err, transaction: this.key, state: this.current },
        `transaction user threw in ${what}`,
      );
    }
  }
}
