import { EventEmitter } from 'node:events';

/** An EventEmitter whose events and arguments are typed by a map; a throwing listener does not break the emitter. */
export class TypedEmitter<M extends Record<string, unknown[]>> {
  readonly #e = new EventEmitter();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof M & string>(event: K, listener: (...args: M[K]) => void): () => void {
    const safe = (...args: M[K]) => {
      try {
        listener(...args);
      } catch {
        // A listener's failure is its own.
      }
    };
    this.#e.on(event, safe as (...a: unknown[]) => void);
    return () => this.#e.off(event, safe as (...a: unknown[]) => void);
  }

  /** The next emission of `event`. */
  once<K extends keyof M & string>(event: K): Promise<M[K]> {
    return new Promise((resolve) => {
      const off = this.on(event, (...args) => {
        off();
        resolve(args);
      });
    });
  }

  protected emit<K extends keyof M & string>(event: K, ...args: M[K]): void {
    this.#e.emit(event, ...args);
  }
}
