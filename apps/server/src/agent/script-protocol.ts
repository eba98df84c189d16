/** Messages between {@link ScriptSandbox} and its worker (script-worker.js). */

/** A script to run: its source, the function to call with `input`, and the limits. */
export interface ScriptJob {
  id: number;
  source: string;
  /** A plain identifier (checked by the host): the function called with the input. */
  fn: string;
  /** JSON text of the input (the script gets it parsed). */
  inputJson: string;
  timeoutMs: number;
  memoryBytes: number;
  /** Longest JSON answer accepted (characters). */
  maxOutput: number;
}

/** How a run ended, when it did not answer. */
export type ScriptFailureKind = 'timeout' | 'memory' | 'exception' | 'garbage' | 'busy' | 'crashed';

/** A run's outcome: the answer as JSON text, or why there is none; what it logged either way. */
export type ScriptOutcome =
  | { id: number; ok: true; json: string; logs: string[]; durationMs: number }
  | { id: number; ok: false; kind: ScriptFailureKind; message: string; logs: string[]; durationMs: number };
