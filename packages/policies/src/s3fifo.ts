import type { CacheOptions } from "@geecache/lru";
import { PolicyCache } from "./base.ts";
import { collect } from "./fifo.ts";
import { type Entry, List } from "./list.ts";

/** Share of the budget for the small (probationary) queue. */
const SMALL_RATIO = 0.1;
/** Share of the budget the ghost queue remembers (in the weight of the keys it holds). */
const GHOST_RATIO = 0.9;
/** Hits in the small queue that earn a move to the main queue. */
const MOVE_TO_MAIN = 2;
/** The 2-bit counter's ceiling. */
const MAX_FREQ = 3;

/**
 * S3FIFOCache is S3-FIFO (Yang et al., SOSP 2023): a small FIFO queue (10% of the budget) that
 * new keys enter, a main FIFO queue (90%) with a 2-bit clock counter per entry, and a ghost FIFO
 * of keys recently evicted from the small queue. Most new keys are read once, if ever; they leave
 * from the small queue without disturbing the main one (quick demotion), while a key hit twice
 * there, or seen again while its ghost is remembered, goes to main. Hits only bump a counter, so
 * reads are as cheap as FIFO's. It follows libCacheSim's S3FIFO.c (move-to-main threshold 2,
 * ghost 0.9 × budget; before the first eviction a full small queue spills into main), whose
 * miss counts it reproduces exactly on a byte budget, except that an entry too big for the small
 * queue goes to the main queue, where libCacheSim declines it.
 */
export class S3FIFOCache<K, V> extends PolicyCache<K, V> {
  readonly #small = new List<K, V>();
  readonly #main = new List<K, V>();
  readonly #ghost = new List<K, V>();
  readonly #ghosts = new Map<K, Entry<K, V>>();
  readonly #smallMax: number;
  readonly #mainMax: number;
  readonly #ghostMax: number;
  #hasEvicted = false;
  /** Whether the key being inserted had a ghost; looked up before room is made for it. */
  #ghostHit = false;

  /** Use createS3FIFO; the constructor takes the same options. */
  constructor(options: CacheOptions<K, V>) {
    super("S3FIFOCache", options);
    const c = this.capacity;
    this.#smallMax = Number.isFinite(c) ? Math.floor(c * SMALL_RATIO) : c;
    this.#mainMax = c - this.#smallMax;
    this.#ghostMax = Number.isFinite(c) ? Math.floor(c * GHOST_RATIO) : c;
  }

  protected override beforeInsert(e: Entry<K, V>): void {
    // Before any eviction: the room made for this key sends small-queue entries to the ghost
    // queue, which could push out the key's own ghost (libCacheSim checks it first, too).
    const g = this.#ghosts.get(e.key);
    this.#ghostHit = g !== undefined;
    if (g !== undefined) this.#forget(g);
  }

  protected override place(e: Entry<K, V>): void {
    e.freq = 0;
    if (this.#ghostHit) {
      this.#ghostHit = false;
      this.#main.pushHead(e);
    } else if (
      e.w > this.#smallMax ||
      (!this.#hasEvicted && this.#small.weight >= this.#smallMax)
    ) {
      this.#main.pushHead(e);
    } else {
      this.#small.pushHead(e);
    }
  }

  protected override touch(e: Entry<K, V>): void {
    if (e.freq < MAX_FREQ) e.freq++;
  }

  protected override victim(): Entry<K, V> | null {
    this.#hasEvicted = true;
    const small = this.#small;
    const main = this.#main;
    for (;;) {
      if (main.weight > this.#mainMax || small.tail === null) {
        // The 2-bit clock: an entry that was hit goes round again with one less.
        for (let t = main.tail; t !== null; t = main.tail) {
          if (t.freq === 0) return t;
          t.freq--;
          main.moveToHead(t);
        }
        if (small.tail === null) return null;
      }
      for (let t = small.tail; t !== null; t = small.tail) {
        if (t.freq < MOVE_TO_MAIN) return t;
        small.remove(t);
        t.freq = 0;
        main.pushHead(t);
      }
    }
  }

  protected override unlink(e: Entry<K, V>, ghost: boolean): void {
    const from = e.list!;
    from.remove(e);
    if (!ghost || from !== this.#small || this.#ghostMax <= 0) return;
    // The entry object itself becomes the ghost.
    e.value = undefined;
    this.#ghost.pushHead(e);
    this.#ghosts.set(e.key, e);
    while (this.#ghost.weight > this.#ghostMax && this.#ghost.tail !== null) {
      this.#forget(this.#ghost.tail);
    }
  }

  protected override order(): Entry<K, V>[] {
    return collect(this.#small, collect(this.#main));
  }

  protected override reset(): void {
    this.#small.clear();
    this.#main.clear();
    this.#ghost.clear();
    this.#ghosts.clear();
    this.#hasEvicted = false;
    this.#ghostHit = false;
  }

  #forget(g: Entry<K, V>): void {
    this.#ghost.remove(g);
    this.#ghosts.delete(g.key);
  }
}

/** createS3FIFO creates an S3FIFOCache; it throws TypeError or RangeError on bad options. */
export function createS3FIFO<K, V>(options: CacheOptions<K, V>): S3FIFOCache<K, V> {
  return new S3FIFOCache(options);
}
