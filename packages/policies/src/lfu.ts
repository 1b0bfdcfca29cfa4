import type { CacheOptions } from "@geecache/lru";
import { PolicyCache } from "./base.ts";
import { collect } from "./fifo.ts";
import { type Entry, List } from "./list.ts";

/** Ageing runs once this many accesses per entry held (at least MIN_PERIOD) have been counted. */
const AGEING_FACTOR = 10;
const MIN_PERIOD = 160;

/**
 * LFUCache evicts the least frequently used entry, and among equally frequent ones the least
 * recently used. Every operation is O(1) (Shah, Mitra & Matani's list of frequency buckets,
 * each an LRU list). To keep old popularity from pinning entries forever, all counts are halved
 * (rounding down, at least 1) after every 10 × size accesses (and at least 160), which costs
 * O(size) once per period. Hits, sets of a present key and insertions all count as accesses.
 * It suits workloads whose popular keys stay popular, and loses to recency policies when
 * popularity shifts quickly.
 */
export class LFUCache<K, V> extends PolicyCache<K, V> {
  /** The bucket of the lowest frequency; buckets link upward through `up`. */
  #lowest: List<K, V> | null = null;
  /** Accesses counted since the last ageing. */
  #ops = 0;
  /** Logical clock for recency within a bucket. */
  #clock = 0;

  /** Use createLFU; the constructor takes the same options. */
  constructor(options: CacheOptions<K, V>) {
    super("LFUCache", options);
  }

  protected override place(e: Entry<K, V>): void {
    e.freq = 1;
    e.stamp = ++this.#clock;
    let b = this.#lowest;
    if (b === null || b.freq !== 1) b = this.#bucket(1, null, b);
    b.pushHead(e);
    this.#tick();
  }

  protected override touch(e: Entry<K, V>): void {
    const b = e.list!;
    const f = e.freq + 1;
    let up = b.up;
    if (up === null || up.freq !== f) up = this.#bucket(f, b, up);
    b.remove(e);
    if (b.count === 0) this.#unlinkBucket(b);
    e.freq = f;
    e.stamp = ++this.#clock;
    up.pushHead(e);
    this.#tick();
  }

  protected override victim(): Entry<K, V> | null {
    return this.#lowest === null ? null : this.#lowest.tail;
  }

  protected override unlink(e: Entry<K, V>): void {
    const b = e.list!;
    b.remove(e);
    if (b.count === 0) this.#unlinkBucket(b);
  }

  protected override order(): Entry<K, V>[] {
    const buckets: List<K, V>[] = [];
    for (let b = this.#lowest; b !== null; b = b.up) buckets.push(b);
    const out: Entry<K, V>[] = [];
    for (let i = buckets.length - 1; i >= 0; i--) collect(buckets[i]!, out);
    return out;
  }

  protected override reset(): void {
    this.#lowest = null;
    this.#ops = 0;
  }

  /** A new bucket of frequency f between down and up (either may be null). */
  #bucket(f: number, down: List<K, V> | null, up: List<K, V> | null): List<K, V> {
    const b = new List<K, V>();
    b.freq = f;
    b.down = down;
    b.up = up;
    if (down === null) this.#lowest = b;
    else down.up = b;
    if (up !== null) up.down = b;
    return b;
  }

  #unlinkBucket(b: List<K, V>): void {
    if (b.down === null) this.#lowest = b.up;
    else b.down.up = b.up;
    if (b.up !== null) b.up.down = b.down;
  }

  #tick(): void {
    if (++this.#ops >= Math.max(MIN_PERIOD, AGEING_FACTOR * this.size)) {
      this.#ops = 0;
      this.#age();
    }
  }

  /**
   * Halves every count. Buckets 2k and 2k + 1 (and 1 with 2 and 3) fall together; their entries,
   * each bucket ordered by recency, are merged by recency so the LRU tie-break survives.
   */
  #age(): void {
    let down: List<K, V> | null = null;
    let b = this.#lowest;
    this.#lowest = null;
    while (b !== null) {
      const f = Math.max(1, b.freq >> 1);
      let merged = collect(b);
      b = b.up;
      while (b !== null && Math.max(1, b.freq >> 1) === f) {
        merged = mergeByStamp(merged, collect(b));
        b = b.up;
      }
      const nb = this.#bucket(f, down, null);
      for (const e of merged) {
        e.freq = f;
        nb.pushTail(e);
      }
      down = nb;
    }
  }
}

/** Merges two lists of entries, each newest first, into one newest first. */
function mergeByStamp<K, V>(a: Entry<K, V>[], b: Entry<K, V>[]): Entry<K, V>[] {
  const out: Entry<K, V>[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(a[i]!.stamp > b[j]!.stamp ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** createLFU creates an LFUCache; it throws TypeError or RangeError on bad options. */
export function createLFU<K, V>(options: CacheOptions<K, V>): LFUCache<K, V> {
  return new LFUCache(options);
}
