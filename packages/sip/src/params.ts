/**
 * Ordered header and URI parameters (RFC 3261 §25.1 generic-param, uri-parameter, auth-param).
 *
 * A SIP message carries a dozen parameter lists (Request-URI, Via, From, To, Contact, each URI
 * inside them, Authorization) of one to five entries each, built once per message and read a few
 * times by name. A Map pays for a hash table and a hash of every name for that; here the pairs sit in
 * one flat array in the order written, and a lookup compares names one by one, which for lists this
 * short is faster than hashing the name. Names are compared as given: parsers store them lowercased
 * and callers look them up lowercased.
 *
 * The API is Map's (get, has, set, delete, size, iteration as `[name, value]` pairs), so code reads
 * the same either way.
 */
export class Params<V = string | null> implements Iterable<[string, V]> {
  // name0, value0, name1, value1, ...
  readonly #items: Array<string | V>;

  constructor(entries?: Iterable<readonly [string, V]>) {
    this.#items = [];
    if (entries !== undefined) for (const [name, value] of entries) this.set(name, value);
  }

  /** Number of parameters. */
  get size(): number {
    return this.#items.length >> 1;
  }

  /** The value of `name` (null for a parameter without a value), or undefined when absent. */
  get(name: string): V | undefined {
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) if (items[i] === name) return items[i + 1] as V;
    return undefined;
  }

  has(name: string): boolean {
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) if (items[i] === name) return true;
    return false;
  }

  /** Sets `name`: in place when present (its position is kept, as Map keeps it), appended otherwise. */
  set(name: string, value: V): this {
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) {
      if (items[i] === name) {
        items[i + 1] = value;
        return this;
      }
    }
    items.push(name, value);
    return this;
  }

  delete(name: string): boolean {
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) {
      if (items[i] === name) {
        items.splice(i, 2);
        return true;
      }
    }
    return false;
  }

  /** An independent copy (same order). */
  clone(): Params<V> {
    const copy = new Params<V>();
    for (const item of this.#items) copy.#items.push(item);
    return copy;
  }

  *entries(): IterableIterator<[string, V]> {
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) yield [items[i] as string, items[i + 1] as V];
  }

  *keys(): IterableIterator<string> {
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) yield items[i] as string;
  }

  *values(): IterableIterator<V> {
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) yield items[i + 1] as V;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /** Calls `fn` for each parameter in order, without building pairs. */
  forEach(fn: (value: V, name: string) => void): void {
    const items = this.#items;
    for (let i = 0; i < items.length; i += 2) fn(items[i + 1] as V, items[i] as string);
  }
}
