import type { CacheOptions } from "@geecache/lru";
import { PolicyCache } from "./base.ts";
import { collect } from "./fifo.ts";
import { Entry, List } from "./list.ts";

/** Share of the budget for resident HIR entries by default: the paper's 1%. */
const DEFAULT_HIR_RATIO = 0.01;
/** Weight of non-resident HIR entries remembered, per unit of budget (Caffeine's simulator: 2). */
const GHOST_RATIO = 2;

// Status of an entry (in `freq`): a LIR entry sits in the stack S itself; a resident HIR entry
// sits in the queue Q and may have a stand-in ("shadow") in S; a non-resident HIR entry is only a
// shadow in S, its value gone.
const GHOST = 0;
const HIR = 1;
const LIR = 2;

/** LIRSOptions are the Cache options plus the share of the budget for resident HIR entries. */
export interface LIRSOptions<K, V> extends CacheOptions<K, V> {
  /**
   * The share of the budget for resident HIR entries (the paper's Lhirs), in (0, 1); 0.01 by
   * default, as the paper recommends. A larger share favours keys seen once over the LIR keys.
   */
  hirRatio?: number;
}

/**
 * LIRSCache is Low Inter-reference Recency Set (Jiang & Zhang, SIGMETRICS 2002). It ranks keys by
 * the recency of their last two accesses rather than the last one: keys re-used within a short
 * span (LIR) fill 99% of the budget and are never evicted while HIR keys exist; every other key
 * (HIR) gets the remaining 1% (`hirRatio`), a FIFO queue Q. The stack S orders LIR keys and recently seen HIR
 * keys, resident or not, by recency; an HIR key seen again while still in S has a shorter reuse
 * distance than the oldest LIR key, so it becomes LIR and that oldest LIR key is demoted to Q.
 * S is pruned so its bottom is always LIR. A loop larger than the cache, which gives LRU no hits,
 * keeps most of its keys under LIRS.
 *
 * One rule follows Caffeine's simulator rather than the paper: a resident HIR key hit again
 * while its stand-in is still the top of S (no other key was used in between) stays HIR.
 *
 * On a byte budget the LIR share and Q are measured in weight, and a promotion demotes the oldest
 * LIR entries until the LIR weight fits again. Non-resident entries are remembered up to twice
 * the budget's weight, oldest forgotten first (the paper leaves this bound open; Caffeine's
 * simulator uses the same).
 */
export class LIRSCache<K, V> extends PolicyCache<K, V> {
  /** The LIRS stack: head is the top (most recent). */
  readonly #s = new List<K, V>();
  /** Resident HIR entries: head is the newest, tail the next victim. */
  readonly #q = new List<K, V>();
  /** Shadows in S of HIR keys, resident or not, by key. */
  readonly #shadows = new Map<K, Entry<K, V>>();
  /** Non-resident shadows in the order they lost residence; stale ones are skipped. */
  #ghostQueue: Entry<K, V>[] = [];
  #ghostHead = 0;
  #ghostWeight = 0;
  #ghostCount = 0;
  #lirWeight = 0;
  readonly #maxLir: number;
  readonly #maxGhost: number;
  /** Whether the key being inserted becomes LIR (decided before room is made). */
  #asLir = false;

  /** Use createLIRS; the constructor takes the same options. */
  constructor(options: LIRSOptions<K, V>) {
    super("LIRSCache", options);
    const { hirRatio = DEFAULT_HIR_RATIO } = options;
    if (typeof hirRatio !== "number" || !(hirRatio > 0 && hirRatio < 1)) {
      throw new RangeError(
        `LIRSCache: hirRatio must be a number in (0, 1), got ${String(hirRatio)}`,
      );
    }
    this.#maxLir = Math.floor(this.capacity * (1 - hirRatio));
    this.#maxGhost = this.capacity * GHOST_RATIO;
  }

  /** nonResident is how many evicted keys are remembered (non-resident HIR); for tests and simulations. */
  get nonResident(): number {
    return this.#ghostCount;
  }

  protected override beforeInsert(e: Entry<K, V>): void {
    // A key still remembered in S was re-used sooner than the oldest LIR key: LIR. So is every
    // key while the LIR share has room (warm-up).
    this.#asLir = this.#shadows.has(e.key) || this.#lirWeight + e.w <= this.#maxLir;
  }

  protected override place(e: Entry<K, V>): void {
    // The key's shadow, unless making room has just forgotten it, gives way to the entry.
    const shadow = this.#shadows.get(e.key);
    if (shadow !== undefined) this.#dropShadow(shadow);
    if (this.#asLir) {
      this.#pushLir(e);
    } else {
      e.freq = HIR;
      this.#q.pushHead(e);
      this.#pushShadow(e);
    }
  }

  protected override touch(e: Entry<K, V>): void {
    const s = this.#s;
    if (e.freq === LIR) {
      const wasBottom = s.tail === e;
      s.moveToHead(e);
      if (wasBottom) this.#prune();
      return;
    }
    const shadow = this.#shadows.get(e.key);
    if (shadow !== undefined && s.head !== shadow) {
      // Re-used while still in S (below its top: see the class doc): promote.
      this.#dropShadow(shadow);
      this.#q.remove(e);
      this.#pushLir(e);
      return;
    }
    if (shadow === undefined) this.#pushShadow(e);
    this.#q.moveToHead(e);
  }

  protected override updated(e: Entry<K, V>, oldW: number): void {
    if (e.freq === LIR) this.#lirWeight += e.w - oldW;
    super.updated(e, oldW);
    this.#fitLir();
  }

  /** The oldest resident HIR entry; LIR entries only once Q is empty (S's bottom is LIR). */
  protected override victim(): Entry<K, V> | null {
    return this.#q.tail ?? this.#s.tail;
  }

  protected override unlink(e: Entry<K, V>, ghost: boolean): void {
    if (e.freq === LIR) {
      const wasBottom = this.#s.tail === e;
      this.#s.remove(e);
      this.#lirWeight -= e.w;
      if (wasBottom) this.#prune();
      return;
    }
    this.#q.remove(e);
    const shadow = this.#shadows.get(e.key);
    if (shadow === undefined) return;
    if (!ghost) {
      this.#dropShadow(shadow);
      return;
    }
    shadow.freq = GHOST;
    // The entry's weight may have changed since its shadow was made; S's total follows.
    this.#s.weight += e.w - shadow.w;
    shadow.w = e.w;
    this.#ghostWeight += e.w;
    this.#ghostCount++;
    this.#ghostQueue.push(shadow);
    this.#boundGhosts();
  }

  protected override order(): Entry<K, V>[] {
    const out: Entry<K, V>[] = [];
    for (let n = this.#s.head; n !== null; n = n.next) if (n.freq === LIR) out.push(n);
    return collect(this.#q, out);
  }

  protected override reset(): void {
    this.#s.clear();
    this.#q.clear();
    this.#shadows.clear();
    this.#ghostQueue = [];
    this.#ghostHead = 0;
    this.#ghostWeight = 0;
    this.#ghostCount = 0;
    this.#lirWeight = 0;
  }

  #pushLir(e: Entry<K, V>): void {
    e.freq = LIR;
    this.#s.pushHead(e);
    // With no LIR entry before it, S held only HIR keys' stand-ins; they are now below the bottom
    // LIR entry and go, or #fitLir would demote a stand-in as if it were an entry.
    this.#prune();
    this.#lirWeight += e.w;
    this.#fitLir();
  }

  /** Demotes the bottom LIR entries to Q until the LIR weight fits its share. */
  #fitLir(): void {
    const s = this.#s;
    while (this.#lirWeight > this.#maxLir && s.tail !== null) {
      const b = s.tail;
      s.remove(b);
      this.#lirWeight -= b.w;
      b.freq = HIR;
      this.#q.pushHead(b);
      this.#prune();
    }
  }

  #pushShadow(e: Entry<K, V>): void {
    const shadow = new Entry<K, V>(e.key, undefined, 0, e.w, Number.POSITIVE_INFINITY);
    shadow.freq = HIR;
    this.#s.pushHead(shadow);
    this.#shadows.set(e.key, shadow);
  }

  #dropShadow(shadow: Entry<K, V>): void {
    this.#s.remove(shadow);
    this.#shadows.delete(shadow.key);
    if (shadow.freq === GHOST) {
      this.#ghostWeight -= shadow.w;
      this.#ghostCount--;
    }
  }

  /** Stack pruning: removes HIR shadows from S's bottom until a LIR entry is there. */
  #prune(): void {
    const s = this.#s;
    for (let b = s.tail; b !== null && b.freq !== LIR; b = s.tail) this.#dropShadow(b);
  }

  /**
   * Forgets the oldest non-resident keys beyond the bound: twice the budget in weight and, for
   * entries of size 0 (which weigh nothing), twice the resident count, the entry being placed
   * included.
   */
  #boundGhosts(): void {
    const queue = this.#ghostQueue;
    while (
      (this.#ghostWeight > this.#maxGhost || this.#ghostCount > GHOST_RATIO * (this.size + 1)) &&
      this.#ghostHead < queue.length
    ) {
      const g = queue[this.#ghostHead++]!;
      if (this.#isGhost(g)) this.#dropShadow(g);
    }
    // Keep the array in proportion: cut the consumed prefix once it is half of it, and drop
    // stale slots (ghosts since pruned or revived) once the pending ones outnumber 4 × shadows.
    const pending = queue.length - this.#ghostHead;
    if (this.#ghostHead > 64 && this.#ghostHead * 2 > queue.length) {
      this.#ghostQueue = queue.slice(this.#ghostHead);
      this.#ghostHead = 0;
    } else if (pending > 64 && pending > 4 * this.#shadows.size) {
      this.#ghostQueue = queue.slice(this.#ghostHead).filter((g) => this.#isGhost(g));
      this.#ghostHead = 0;
    }
  }

  #isGhost(g: Entry<K, V>): boolean {
    return g.freq === GHOST && this.#shadows.get(g.key) === g;
  }
}

/** createLIRS creates a LIRSCache; it throws TypeError or RangeError on bad options. */
export function createLIRS<K, V>(options: LIRSOptions<K, V>): LIRSCache<K, V> {
  return new LIRSCache(options);
}
