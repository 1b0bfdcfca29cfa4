import type { CacheOptions } from "@geecache/lru";
import { PolicyCache } from "./base.ts";
import { type Entry, List } from "./list.ts";

/**
 * FIFOCache evicts the entry that was inserted first; hits change nothing. It is the cheapest
 * policy per hit (a get never writes) and does well when every key is read a few times soon after
 * it is written; it cannot tell a popular key from a one-off.
 */
export class FIFOCache<K, V> extends PolicyCache<K, V> {
  /** Head: newest insertion; tail: the next victim. */
  readonly #queue = new List<K, V>();

  /** Use createFIFO; the constructor takes the same options. */
  constructor(options: CacheOptions<K, V>) {
    super("FIFOCache", options);
  }

  protected override place(e: Entry<K, V>): void {
    this.#queue.pushHead(e);
  }

  protected override touch(_e: Entry<K, V>): void {}

  protected override updated(e: Entry<K, V>, oldW: number): void {
    this.#queue.weight += e.w - oldW;
  }

  protected override victim(): Entry<K, V> | null {
    return this.#queue.tail;
  }

  protected override unlink(e: Entry<K, V>): void {
    this.#queue.remove(e);
  }

  protected override order(): Entry<K, V>[] {
    return collect(this.#queue);
  }

  protected override reset(): void {
    this.#queue.clear();
  }
}

/** createFIFO creates a FIFOCache; it throws TypeError or RangeError on bad options. */
export function createFIFO<K, V>(options: CacheOptions<K, V>): FIFOCache<K, V> {
  return new FIFOCache(options);
}

/** collect lists a list's entries from head to tail. */
export function collect<K, V>(list: List<K, V>, into: Entry<K, V>[] = []): Entry<K, V>[] {
  for (let e = list.head; e !== null; e = e.next) into.push(e);
  return into;
}
