import type { CacheOptions } from "@geecache/lru";
import { PolicyCache } from "./base.ts";
import { collect } from "./fifo.ts";
import { type Entry, List } from "./list.ts";

/**
 * SIEVECache is SIEVE (Zhang et al., NSDI 2024): a FIFO queue with one visited bit per entry and
 * a hand that sweeps from the oldest entry toward the newest, clearing visited bits and evicting
 * the first entry it finds unvisited. New entries join at the head, so one-hit wonders leave
 * quickly while entries that were hit stay where they are: a hit only sets a bit, which makes it
 * as cheap as FIFO to read and better than LRU on web and key-value workloads.
 */
export class SIEVECache<K, V> extends PolicyCache<K, V> {
  /** Head: newest insertion. */
  readonly #queue = new List<K, V>();
  /** Where the next sweep starts; null means the tail. */
  #hand: Entry<K, V> | null = null;

  /** Use createSIEVE; the constructor takes the same options. */
  constructor(options: CacheOptions<K, V>) {
    super("SIEVECache", options);
  }

  protected override place(e: Entry<K, V>): void {
    e.freq = 0;
    this.#queue.pushHead(e);
  }

  protected override touch(e: Entry<K, V>): void {
    e.freq = 1;
  }

  protected override victim(): Entry<K, V> | null {
    let o = this.#hand ?? this.#queue.tail;
    // Terminates: a full lap clears every bit it passes.
    while (o !== null && o.freq !== 0) {
      o.freq = 0;
      o = o.prev ?? this.#queue.tail;
    }
    this.#hand = o;
    return o;
  }

  protected override unlink(e: Entry<K, V>): void {
    // The sweep resumes at the next newer entry (or wraps to the tail).
    if (this.#hand === e) this.#hand = e.prev;
    this.#queue.remove(e);
  }

  protected override order(): Entry<K, V>[] {
    return collect(this.#queue);
  }

  protected override reset(): void {
    this.#queue.clear();
    this.#hand = null;
  }
}

/** createSIEVE creates a SIEVECache; it throws TypeError or RangeError on bad options. */
export function createSIEVE<K, V>(options: CacheOptions<K, V>): SIEVECache<K, V> {
  return new SIEVECache(options);
}
