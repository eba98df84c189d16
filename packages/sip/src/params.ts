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
/** Fills `into` from the parameter text `src` starting at `pos` (a parser's, for {@link Params.deferred}). */
export type ParamsFiller = (src: string, pos: number, into: Params) => void;

export class Params<V = string | null> implements Iterable<[string, V]> {
  // name0, value0, name1, value1, ...; undefined until first used (an empty or a deferred list).
  #items: Array<string | V> | undefined = undefined;
  // A deferred list: the text it is read from on first use, and the reader.
  #src: string | undefined = undefined;
  #pos = 0;
  #fill: ParamsFiller | undefined = undefined;

  constructor(entries?: Iterable<readonly [string, V]>) {
    if (entries !== undefined) for (const [name, value] of entries) this.set(name, value);
  }

  /**
   * A list read from `src` at `pos` only when it is first used. Most parameter lists of a message
   * (the URI parameters of From and To, those of every Via but the top one, a Contact's) are never read
   * while it passes through, so they cost an object instead of an array of strings. The caller has
   * checked the text already: `fill` must not throw on it.
   */
  static deferred(src: string, pos: number, fill: ParamsFiller): Params {
    const p = new Params();
    p.#src = src;
    p.#pos = pos;
    p.#fill = fill;
    return p;
  }

  #list(): Array<string | V> {
    let items = this.#items;
    if (items === undefined) {
      items = this.#items = [];
      const src = this.#src;
      if (src !== undefined) {
        this.#src = undefined;
        this.#fill!(src, this.#pos, this as unknown as Params);
        this.#fill = undefined;
      }
    }
    return items;
  }

  /** Number of parameters. */
  get size(): number {
    return this.#list().length >> 1;
  }

  /** The value of `name` (null for a parameter without a value), or undefined when absent. */
  get(name: string): V | undefined {
    const items = this.#list();
    for (let i = 0; i < items.length; i += 2) if (items[i] === name) return items[i + 1] as V;
    return undefined;
  }

  has(name: string): boolean {
    const items = this.#list();
    for (let i = 0; i < items.length; i += 2) if (items[i] === name) return true;
    return false;
  }

  /** Sets `name`: in place when present (its position is kept, as Map keeps it), appended otherwise. */
  set(name: string, value: V): this {
    const items = this.#list();
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
    const items = this.#list();
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
    const items = this.#list();
    if (items.length > 0) copy.#items = items.slice();
    return copy;
  }

  *entries(): IterableIterator<[string, V]> {
    const items = this.#list();
    for (let i = 0; i < items.length; i += 2) yield [items[i] as string, items[i + 1] as V];
  }

  *keys(): IterableIterator<string> {
    const items = this.#list();
    for (let i = 0; i < items.length; i += 2) yield items[i] as string;
  }

  *values(): IterableIterator<V> {
    const items = this.#list();
    for (let i = 0; i < items.length; i += 2) yield items[i + 1] as V;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  /** Calls `fn` for each parameter in order, without building pairs. */
  forEach(fn: (value: V, name: string) => void): void {
    const items = this.#list();
    for (let i = 0; i < items.length; i += 2) fn(items[i + 1] as V, items[i] as string);
  }
}
