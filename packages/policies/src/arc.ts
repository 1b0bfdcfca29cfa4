import type { CacheOptions } from "@geecache/lru";
import { PolicyCache } from "./base.ts";
import { collect } from "./fifo.ts";
import { type Entry, List } from "./list.ts";

/**
 * ARCCache is the Adaptive Replacement Cache (Megiddo & Modha, FAST 2003). T1 holds entries seen
 * once recently, T2 entries seen at least twice; the ghost lists B1 and B2 remember the keys
 * (not the values) recently evicted from each. A miss that hits B1 means T1 was too small, one
 * that hits B2 that T2 was, and the target size p of T1 moves accordingly, so the cache adapts
 * between recency and frequency by itself, and a scan cannot flush T2.
 *
 * On a byte budget every quantity of the paper is measured in weight (bytes with maxBytes,
 * else 1 per entry): |T1|, |B1|, p and the cache size c are sums of weights; a ghost hit moves
 * p by the paper's delta times the entry's weight; REPLACE runs until the newcomer fits; and
 * case IV trims ghosts until |T1| + |B1| + w <= c and the whole directory until it is <= 2c.
 * With every weight 1 these are exactly the paper's steps (Fig. 4).
 */
export class ARCCache<K, V> extends PolicyCache<K, V> {
  readonly #t1 = new List<K, V>();
  readonly #t2 = new List<K, V>();
  readonly #b1 = new List<K, V>();
  readonly #b2 = new List<K, V>();
  /** Ghost keys, each in b1 or b2. */
  readonly #ghosts = new Map<K, Entry<K, V>>();
  /** Target weight of T1. */
  #p = 0;
  /** Whether the key being inserted was found in B2 (REPLACE's tie rule). */
  #inB2 = false;
  /** Where the key being inserted goes: T2 after a ghost hit, else T1. */
  #target: List<K, V> = this.#t1;

  /** Use createARC; the constructor takes the same options. */
  constructor(options: CacheOptions<K, V>) {
    super("ARCCache", options);
  }

  /** p is the current target weight of T1 (recency side); for tests and simulations. */
  get p(): number {
    return this.#p;
  }

  protected override beforeInsert(e: Entry<K, V>): void {
    const c = this.capacity;
    const t1 = this.#t1;
    const b1 = this.#b1;
    const b2 = this.#b2;
    const ghost = this.#ghosts.get(e.key);
    this.#inB2 = false;
    if (ghost !== undefined) {
      // Cases II and III: adapt p, forget the ghost; the entry goes to T2.
      if (ghost.list === b1) {
        const delta = b1.weight >= b2.weight ? 1 : b2.weight / b1.weight;
        this.#p = Math.min(this.#p + delta * e.w, c);
      } else {
        const delta = b2.weight >= b1.weight ? 1 : b1.weight / b2.weight;
        this.#p = Math.max(this.#p - delta * e.w, 0);
        this.#inB2 = true;
      }
      this.#forget(ghost);
      this.#target = this.#t2;
      return;
    }
    // Case IV: a new key goes to T1.
    this.#target = t1;
    if (t1.weight + b1.weight + e.w > c) {
      // IV.A: L1 is full. Drop B1's oldest ghosts; if T1 alone fills L1, evict from T1 unremembered.
      while (t1.weight + b1.weight + e.w > c && b1.tail !== null) this.#forget(b1.tail);
      while (t1.weight + e.w > c && t1.tail !== null) this.evict(t1.tail, false);
    } else {
      // IV.B: the directory may hold 2c; drop B2's oldest ghosts beyond that.
      while (
        t1.weight + this.#t2.weight + b1.weight + b2.weight + e.w > 2 * c &&
        b2.tail !== null
      ) {
        this.#forget(b2.tail);
      }
    }
  }

  protected override place(e: Entry<K, V>): void {
    this.#target.pushHead(e);
    // Ghosts of other sizes may leave the directory a little over 2c on a byte budget.
    const limit = 2 * this.capacity;
    while (this.#directory() > limit) {
      const g = this.#b2.tail ?? this.#b1.tail;
      if (g === null) break;
      this.#forget(g);
    }
  }

  protected override touch(e: Entry<K, V>): void {
    // Case I: a hit moves the entry to T2's head.
    if (e.list === this.#t2) {
      this.#t2.moveToHead(e);
    } else {
      this.#t1.remove(e);
      this.#t2.pushHead(e);
    }
  }

  /** REPLACE: evict T1's oldest when T1 exceeds its target p, else T2's oldest. */
  protected override victim(): Entry<K, V> | null {
    const t1 = this.#t1;
    if (
      t1.tail !== null &&
      ((this.#inB2 && t1.weight >= this.#p) || t1.weight > this.#p || this.#t2.tail === null)
    ) {
      return t1.tail;
    }
    return this.#t2.tail;
  }

  protected override unlink(e: Entry<K, V>, ghost: boolean): void {
    const from = e.list!;
    from.remove(e);
    if (!ghost) return;
    e.value = undefined;
    (from === this.#t1 ? this.#b1 : this.#b2).pushHead(e);
    this.#ghosts.set(e.key, e);
  }

  protected override order(): Entry<K, V>[] {
    return collect(this.#t1, collect(this.#t2));
  }

  protected override reset(): void {
    this.#t1.clear();
    this.#t2.clear();
    this.#b1.clear();
    this.#b2.clear();
    this.#ghosts.clear();
    this.#p = 0;
  }

  #forget(g: Entry<K, V>): void {
    g.list!.remove(g);
    this.#ghosts.delete(g.key);
  }

  #directory(): number {
    return this.#t1.weight + this.#t2.weight + this.#b1.weight + this.#b2.weight;
  }
}

/** createARC creates an ARCCache; it throws TypeError or RangeError on bad options. */
export function createARC<K, V>(options: CacheOptions<K, V>): ARCCache<K, V> {
  return new ARCCache(options);
}
