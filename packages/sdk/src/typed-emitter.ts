/** A map from event name to the tuple of arguments its listeners receive. */
export type EventMap = { [event: string]: unknown[] };

/** A listener of one event of an {@link EventMap}. */
export type Listener<Args extends unknown[]> = (...args: Args) => void;

/**
 * A small typed event emitter (mediasoup's `safeEmit`): a listener that throws is reported to
 * `onListenerError` and cannot break the emitter or the listeners after it.
 */
export class TypedEmitter<Events extends EventMap> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never[]>>>();

  /** @param onListenerError where a throwing listener's error goes (default: dropped). */
  constructor(private readonly onListenerError: (err: unknown, event: string) => void = () => undefined) {}

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as unknown as Listener<never[]>);
    return () => this.off(event, listener);
  }

  /** Adds a listener that runs at most once. */
  once<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    const off = this.on(event, (...args) => {
      off();
      listener(...args);
    });
    return off;
  }

  /** Removes a listener added with {@link on}. */
  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    this.listeners.get(event)?.delete(listener as unknown as Listener<never[]>);
  }

  /** Removes every listener (used by `close()`). */
  removeAllListeners(): void {
    this.listeners.clear();
  }

  /** Calls every listener of `event`; a throwing listener is reported, never rethrown. */
  protected emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const l of [...set]) {
      try {
        (l as unknown as Listener<Events[E]>)(...args);
      } catch (err) {
        this.onListenerError(err, String(event));
      }
    }
  }
}
