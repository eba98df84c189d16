import { signal, type ReadonlySignal } from '@preact/signals';
import { ApiError } from './api-client.js';

/** One short message at a time at the bottom of the screen, gone after a few seconds. */
export class Toasts {
  private readonly current = signal('');
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly durationMs = 4000) {}

  /** The message on screen ('' when none). */
  get message(): ReadonlySignal<string> {
    return this.current;
  }

  /** Shows `text` (replacing the one on screen). */
  show(text: string): void {
    clearTimeout(this.timer);
    this.current.value = text;
    this.timer = setTimeout(() => {
      if (this.current.value === text) this.current.value = '';
    }, this.durationMs);
  }

  /** Shows what went wrong, in words (see {@link errorText}). */
  error(err: unknown, prefix?: (reason: string) => string): void {
    const reason = errorText(err);
    this.show(prefix ? prefix(reason) : reason);
  }
}

/** An error in words for the user: the server's message, or the exception's, never "[object Object]". */
export function errorText(err: unknown, networkText = 'the server cannot be reached'): string {
  if (err instanceof ApiError && err.code === 'NETWORK') return networkText;
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : 'unknown error';
}
