import type { CacheOptions } from "@geecache/lru";
import { PolicyCache } from "./base.ts";
import { collect } from "./fifo.ts";
import { type Entry, List } from "./list.ts";
import { createKeyHasher, FrequencySketch, mix } from "./sketch.ts";

/** Caffeine's defaults: 1% window, and 80% of the main space protected. */
const DEFAULT_WINDOW_RATIO = 0.01;
const PROTECTED_RATIO = 0.8;
/** Caffeine's hill climber: a step of 6.25% of the budget, restarted when the hit ratio moves 5 points, else decaying by 2% a step. */
const STEP_RATIO = 0.0625;
const RESTART_THRESHOLD = 0.05;
const STEP_DECAY = 0.98;
/** Requests per hill-climbing sample (and per simulation period), per entry of capacity. */
const SAMPLE_FACTOR = 10;
/** The window shares the miniature caches keep: none to 80%, the range of Caffeine's MiniSim. */
const SIM_RATIOS = [0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] as const;
/** About how many entries each miniature cache holds: the keys are sampled down to fit. */
const SIM_ENTRIES = 100;
/**
 * A miniature's entry cap. On a byte budget the rate follows the entries held, and the
 * simulation restarts with a new rate once they leave 0.5 to 4 times what it was chosen for.
 */
const SIM_MAX_ENTRIES = 4 * SIM_ENTRIES;
/** Each period, a miniature's earlier misses count half as much, so one noisy period cannot swing the choice. */
const SIM_DECAY = 0.5;
/** Mixed into a key's hash to pick the sampled keys, so the sample does not follow the sketch's rows. */
const SIM_SAMPLE_SEED = 0x5bd1e995;

/**
 * How the window's share adapts: "simulate" by miniature caches, "climb" by Caffeine's hill
 * climber, "off" not at all.
 */
type Adaptation = "simulate" | "climb" | "off";

/** WTinyLFUOptions are CacheOptions plus W-TinyLFU's tuning. */
export interface WTinyLFUOptions<K, V> extends CacheOptions<K, V> {
  /** Share of the budget for the admission window, in [0, 1]; 0.01 by default (Caffeine's). */
  windowRatio?: number;
  /** Hash of a key for the frequency sketch; by default numbers, strings and object identity. */
  hash?: (key: K) => number;
  /**
   * How the window resizes itself; windowRatio is then only the starting point. "simulate" (the
   * default; true means the same) replays a sample of the keys through small caches with fixed
   * windows of 0 to 80% and moves the window to the share that missed least. "climb" is
   * Caffeine's hill climber, which costs nothing per request but, on a noisy hit ratio, wanders.
   * false keeps the window at windowRatio.
   */
  adaptive?: boolean | "simulate" | "climb";
}

/**
 * WTinyLFUCache is W-TinyLFU (Einziger, Friedman & Manes, 2017), the policy of Caffeine: new
 * entries enter a small LRU window (1%); an entry pushed out of the window becomes a candidate
 * for the main space, a segmented LRU (probation 20%, protected 80%), and is admitted only if a
 * count-min sketch says it was requested more often than the entry it would displace, the
 * oldest in probation. The sketch counts every request, hits and misses, in 4-bit counters
 * halved after 10 × capacity increments, so it remembers keys that are not cached and forgets
 * stale popularity. One-hit wonders and scans therefore pass through the window without evicting
 * anything valuable; the window keeps bursts of recency.
 *
 * The window's share adapts, so recency-heavy workloads get a large window and frequency-heavy
 * ones a small one. By default it follows miniature simulations (Waldspurger et al., "Cache
 * Modeling and Optimization using Miniature Simulations", USENIX ATC 2017; Caffeine's simulator
 * has it as MiniSim). The keys whose hash falls in a 1 / rate sample are replayed through eleven
 * fixed-window W-TinyLFU caches of 1 / rate of the budget, with windows of 0 to 80% (at 0 the
 * cache itself keeps a one-entry window);
 * rate is the entries over 100, rounded down and at least 1: the entry budget's, or on a byte
 * budget the entries held, from when the cache is first full (the simulation restarts with a new
 * rate when, in a full cache, they are outside half to four times that). Every 10 × that many entries' requests the
 * window moves to the share whose miniature missed least, earlier periods counting half as much
 * each time; it stays at windowRatio until a share other than the nearest one to it misses
 * least. A miniature sees the same requests as its neighbours, so their miss counts differ by
 * the window alone, where a hill climber compares one period's hit ratio with the previous one's
 * and reads the workload's own drift as the effect of its last step.
 *
 * It costs eleven miniature accesses per sampled request: about 0.1 per request at 10,000
 * entries, but every request below 200 entries (there a request takes several times as long as
 * with the climber); on a byte budget, whose rate may lag the entries held by up to 4×, up to
 * four times that. The miniatures know keys by a 30-bit hash, so they keep none of the cache's
 * keys alive and hold at most 11 × 400 numbers. An entry larger than 1 / rate of the budget fits
 * no miniature, so its requests count as misses in all eleven; a set that resizes an entry
 * leaves its size in the miniatures as it was.
 *
 * `adaptive: "climb"` is Caffeine's hill climber instead: every 10 × capacity requests it
 * compares the sample's hit ratio with the previous one and moves the window by a step (6.25% of
 * the budget, decaying) in the direction that helped. Its first step moves away from the nearer
 * bound (Caffeine's always shrinks). Unlike Caffeine the admission is deterministic (no random
 * admission of warm candidates, which Caffeine adds against hash flooding). A get that misses and
 * the set of that key right after count as one request.
 */
export class WTinyLFUCache<K, V> extends PolicyCache<K, V> {
  readonly #window = new List<K, V>();
  readonly #probation = new List<K, V>();
  readonly #protected = new List<K, V>();
  #windowMax: number;
  #protectedMax: number;
  readonly #adaptation: Adaptation;
  /** The miniature caches, once started (see #newSimulation). */
  #sim: WindowSimulation | undefined;
  /** Requests since the window last followed the simulation. */
  #simRequests = 0;
  /** Hits and misses (insertions) in the current hill-climbing sample. */
  #sampleHits = 0;
  #sampleMisses = 0;
  #prevHitRatio = 0;
  /** The next window change, in weight; negative shrinks the window. */
  #step: number;
  readonly #sketch: FrequencySketch;
  readonly #hash: (key: K) => number;
  readonly #sizedByEntries: boolean;
  /** The key of the last get that missed, which the next set of it does not count again. */
  #missKey: K | undefined;
  #missPending = false;
  /** The newest candidate not yet judged, and how many candidates are left in this round. */
  #cand: Entry<K, V> | null = null;
  #cands = 0;

  /** Use createWTinyLFU; the constructor takes the same options. */
  constructor(options: WTinyLFUOptions<K, V>) {
    super("WTinyLFUCache", options);
    const { windowRatio = DEFAULT_WINDOW_RATIO, hash, adaptive = true } = options;
    if (typeof windowRatio !== "number" || !(windowRatio >= 0 && windowRatio <= 1)) {
      throw new RangeError(
        `WTinyLFUCache: windowRatio must be a number in [0, 1], got ${String(windowRatio)}`,
      );
    }
    if (hash !== undefined && typeof hash !== "function") {
      throw new TypeError(`WTinyLFUCache: hash must be a function, got ${typeof hash}`);
    }
    if (adaptive === true || adaptive === "simulate") this.#adaptation = "simulate";
    else if (adaptive === "climb") this.#adaptation = "climb";
    else if (adaptive === false) this.#adaptation = "off";
    else {
      throw new TypeError(
        `WTinyLFUCache: adaptive must be a boolean, "simulate" or "climb", got ${String(adaptive)}`,
      );
    }
    this.evictsFirst = false;
    const c = this.capacity;
    this.#windowMax = c - Math.floor((1 - windowRatio) * c);
    this.#protectedMax = Math.floor(PROTECTED_RATIO * (c - this.#windowMax));
    this.#hash = hash ?? createKeyHasher();
    // With a byte budget the entries held, not maxEntries, size the sketch and the samples: an
    // entry budget far above what the bytes allow would make both needlessly large.
    this.#sizedByEntries = !Number.isFinite(this.maxBytes);
    this.#sketch = new FrequencySketch(this.#sizedByEntries ? this.maxEntries : 256);
    // Caffeine's first step shrinks the window; from a 1% window there is almost nothing to
    // shrink, so that first sample was wasted against the bound, and on large caches, which see
    // few samples, the window stayed small where recency pays (OLTP at 10k: 56.8% against
    // 61.4% when the first step grows it, the default traces +0.6 points on average).
    this.#step = windowRatio < 0.5 ? STEP_RATIO * c : -STEP_RATIO * c;
  }

  /** windowMax is the admission window's current budget, in weight (entries without maxBytes). */
  get windowMax(): number {
    return this.#windowMax;
  }

  /** frequency is the sketch's estimate of how often key was requested recently (0 to 15). */
  frequency(key: K): number {
    return this.#sketch.frequency(this.#hash(key));
  }

  protected override missed(key: K): void {
    this.#sketch.increment(this.#hash(key));
    this.#missKey = key;
    this.#missPending = true;
  }

  protected override place(e: Entry<K, V>): void {
    // The hash lives in the entry's spare counter so hits need not rehash.
    e.stamp = this.#hash(e.key);
    if (!(this.#missPending && this.#missKey === e.key)) this.#sketch.increment(e.stamp);
    this.#missPending = false;
    this.#missKey = undefined;
    if (!this.#sizedByEntries) this.#sketch.ensureCapacity(this.size);
    if (this.#adaptation === "simulate") this.#simulate(e);
    else if (this.#adaptation === "climb") {
      this.#sampleMisses++;
      this.#maybeClimb();
    }
    const window = this.#window;
    const probation = this.#probation;
    window.pushHead(e);
    // Window overflow becomes candidates at probation's head, the newest first.
    let n = 0;
    while (window.weight > this.#windowMax && window.tail !== null) {
      const t = window.tail;
      window.remove(t);
      probation.pushHead(t);
      n++;
    }
    this.#cands = n;
    this.#cand = n > 0 ? probation.head : null;
  }

  protected override touch(e: Entry<K, V>): void {
    this.#cands = 0;
    this.#sketch.increment(e.stamp);
    if (this.#adaptation === "simulate") this.#simulate(e);
    else if (this.#adaptation === "climb") {
      this.#sampleHits++;
      this.#maybeClimb();
    }
    const list = e.list;
    if (list === this.#probation && e.w <= this.#protectedMax) {
      const prot = this.#protected;
      this.#probation.remove(e);
      prot.pushHead(e);
      while (prot.weight > this.#protectedMax && prot.tail !== null) {
        const t = prot.tail;
        prot.remove(t);
        this.#probation.pushHead(t);
      }
    } else {
      list!.moveToHead(e);
    }
  }

  /**
   * Pairs the newest unjudged candidate with probation's oldest entry and names the one the
   * sketch counts less often (the candidate on a tie); without candidates, probation's oldest.
   */
  protected override victim(): Entry<K, V> | null {
    const probation = this.#probation;
    const victim = probation.tail;
    if (victim === null) {
      this.#cands = 0;
      return this.#protected.tail ?? this.#window.tail;
    }
    let cand = this.#cands > 0 ? this.#cand : null;
    if (cand !== null && cand.list !== probation) cand = null;
    if (cand === null || cand === victim) {
      this.#cands = 0;
      return victim;
    }
    this.#cands--;
    this.#cand = cand.next;
    const sketch = this.#sketch;
    return sketch.frequency(cand.stamp) > sketch.frequency(victim.stamp) ? victim : cand;
  }

  protected override unlink(e: Entry<K, V>): void {
    e.list!.remove(e);
  }

  /**
   * simulationRate is 1 in how many keys the window's simulation samples; undefined when the
   * window does not adapt by simulation, or before it starts (on a byte budget, once the cache is
   * first full).
   */
  get simulationRate(): number | undefined {
    return this.#sim?.rate;
  }

  /** Replays a request into the miniatures; once a period is over, moves the window to their choice. */
  #simulate(e: Entry<K, V>): void {
    let sim = this.#sim;
    if (sim === undefined) {
      // On a byte budget the rate needs the entries held when full; until the cache is full
      // there is nothing to evict, and so nothing to choose.
      if (!this.#sizedByEntries && !this.#full()) return;
      sim = this.#newSimulation();
    } else if (!this.#sizedByEntries && this.#full()) {
      // The rate was chosen for 100 to 199 entries per miniature; a factor of 2 either side of
      // that before restarting keeps a size that hovers at a boundary from restarting it often.
      // Only a full cache is checked: one refilling after deletes would restart at each step.
      const n = this.size;
      if (n >= SIM_MAX_ENTRIES * sim.rate || (sim.rate > 1 && 2 * n < SIM_ENTRIES * sim.rate)) {
        sim = this.#newSimulation();
      }
    }
    sim.record(e.stamp, e.w);
    if (++this.#simRequests < this.#period()) return;
    this.#simRequests = 0;
    const share = sim.best();
    if (share !== undefined) {
      const delta = Math.round(share * this.capacity) - this.#windowMax;
      if (delta > 0) this.#growWindow(delta);
      else if (delta < 0) this.#shrinkWindow(-delta);
    }
  }

  /** Requests per climber sample or simulation period: 10 per entry (held, on a byte budget). */
  #period(): number {
    return SAMPLE_FACTOR * (this.#sizedByEntries ? this.maxEntries : Math.max(this.size, 16));
  }

  /**
   * Whether a budget is reached. On a byte budget that holds during every set that will evict
   * (the newcomer is counted before room is made), which is when the simulation checks it.
   */
  #full(): boolean {
    return this.bytes >= this.maxBytes || this.size >= this.maxEntries;
  }

  /**
   * Starts (or restarts) the miniatures, at a rate that gives them SIM_ENTRIES to 2 × SIM_ENTRIES entries each
   * (from the entry budget, or on a byte budget the entries held), with both budgets divided by
   * the rate, so the one that binds the cache binds them.
   */
  #newSimulation(): WindowSimulation {
    const entries = this.#sizedByEntries ? this.maxEntries : this.size;
    const rate = Math.max(1, Math.floor(entries / SIM_ENTRIES));
    const maxEntries = Math.min(SIM_MAX_ENTRIES, Math.max(1, Math.round(this.maxEntries / rate)));
    const maxBytes = Number.isFinite(this.maxBytes) ? this.maxBytes / rate : undefined;
    this.#simRequests = 0;
    const sim = new WindowSimulation(rate, this.#windowMax / this.capacity, (windowRatio) =>
      createWTinyLFU<number, true>({
        maxEntries,
        maxBytes,
        windowRatio,
        adaptive: false,
        // Keys are already hashes (see record).
        hash: (k) => k,
      }),
    );
    this.#sim = sim;
    return sim;
  }

  /** Once a sample is complete, steps the window toward the size that raised the hit ratio. */
  #maybeClimb(): void {
    const requests = this.#sampleHits + this.#sampleMisses;
    if (requests < this.#period()) return;
    const hitRatio = this.#sampleHits / requests;
    const change = hitRatio - this.#prevHitRatio;
    const amount = change >= 0 ? this.#step : -this.#step;
    this.#step =
      Math.abs(change) >= RESTART_THRESHOLD
        ? STEP_RATIO * this.capacity * (amount >= 0 ? 1 : -1)
        : STEP_DECAY * amount;
    this.#prevHitRatio = hitRatio;
    this.#sampleHits = 0;
    this.#sampleMisses = 0;
    const quota = Math.trunc(amount);
    // A step against a bound turns back: otherwise an unchanged hit ratio (change >= 0) would
    // keep pushing the window against it forever.
    if (quota > 0 && !this.#growWindow(quota)) this.#step = -Math.abs(this.#step);
    else if (quota < 0 && !this.#shrinkWindow(-quota)) this.#step = Math.abs(this.#step);
  }

  /** Moves up to quota of budget from protected to the window, with main's oldest entries. */
  #growWindow(amount: number): boolean {
    let quota = Math.min(amount, this.#protectedMax);
    if (quota <= 0) return false;
    this.#protectedMax -= quota;
    this.#windowMax += quota;
    const prot = this.#protected;
    const probation = this.#probation;
    while (prot.weight > this.#protectedMax && prot.tail !== null) {
      const t = prot.tail;
      prot.remove(t);
      probation.pushHead(t);
    }
    for (;;) {
      const e = probation.tail ?? prot.tail;
      if (e === null || e.w > quota) break;
      quota -= e.w;
      e.list!.remove(e);
      this.#window.pushHead(e);
    }
    this.#protectedMax += quota;
    this.#windowMax -= quota;
    return true;
  }

  /** Moves up to quota of budget from the window to protected, with the window's oldest entries. */
  #shrinkWindow(amount: number): boolean {
    let quota = Math.min(amount, Math.max(0, this.#windowMax - 1));
    if (quota <= 0) return false;
    this.#protectedMax += quota;
    this.#windowMax -= quota;
    for (;;) {
      const e = this.#window.tail;
      if (e === null || e.w > quota) break;
      quota -= e.w;
      this.#window.remove(e);
      this.#probation.pushHead(e);
    }
    this.#protectedMax -= quota;
    this.#windowMax += quota;
    return true;
  }

  protected override order(): Entry<K, V>[] {
    return collect(this.#window, collect(this.#probation, collect(this.#protected)));
  }

  protected override reset(): void {
    this.#window.clear();
    this.#probation.clear();
    this.#protected.clear();
    this.#sketch.clear();
    this.#cands = 0;
    this.#cand = null;
    this.#missPending = false;
    this.#missKey = undefined;
    this.#sampleHits = 0;
    this.#sampleMisses = 0;
    this.#sim = undefined;
    this.#simRequests = 0;
  }
}

/**
 * WindowSimulation replays a spatial sample of the keys (those whose mixed hash is 0 modulo
 * rate, so every request of a sampled key and none of the others) through one fixed-window
 * W-TinyLFU per share in SIM_RATIOS, each of 1 / rate of the budget, and counts their misses.
 * The miniatures know keys by their hash: two sampled keys rarely share 30 bits among a few
 * hundred, and the cache's keys are never held, so a deleted key is not kept alive here.
 */
class WindowSimulation {
  readonly rate: number;
  readonly #minis: WTinyLFUCache<number, true>[];
  /** Misses per miniature, earlier periods decayed. */
  readonly #misses: Float64Array;
  /** The miniature chosen last, at first the share nearest the cache's window: a tie keeps it. */
  #choice = 0;
  /** Whether a miniature has beaten the first choice: until then the window is left alone. */
  #decided = false;
  readonly #setOptions = { size: 1 };

  /** startRatio is the cache's window share now. */
  constructor(
    rate: number,
    startRatio: number,
    create: (windowRatio: number) => WTinyLFUCache<number, true>,
  ) {
    this.rate = rate;
    this.#minis = SIM_RATIOS.map(create);
    this.#misses = new Float64Array(SIM_RATIOS.length);
    for (let i = 1; i < SIM_RATIOS.length; i++) {
      if (
        Math.abs(SIM_RATIOS[i]! - startRatio) < Math.abs(SIM_RATIOS[this.#choice]! - startRatio)
      ) {
        this.#choice = i;
      }
    }
  }

  /** record replays one request of the key hashed to h, of size weight, if the key is sampled. */
  record(h: number, weight: number): void {
    if (this.rate > 1 && mix(h ^ SIM_SAMPLE_SEED) % this.rate !== 0) return;
    // 30 bits: V8 keeps such a number unboxed, as a Map key too.
    const key = h & 0x3fffffff;
    const minis = this.#minis;
    const options = this.#setOptions;
    options.size = weight;
    for (let i = 0; i < minis.length; i++) {
      const mini = minis[i]!;
      if (mini.get(key) === undefined) {
        this.#misses[i]!++;
        mini.set(key, true, options);
      }
    }
  }

  /**
   * best returns the window share whose miniature missed least, or undefined while none has
   * beaten the first choice, and decays the counts.
   */
  best(): number | undefined {
    const misses = this.#misses;
    let best = this.#choice;
    for (let i = 0; i < misses.length; i++) {
      if (misses[i]! < misses[best]!) best = i;
    }
    for (let i = 0; i < misses.length; i++) misses[i]! *= SIM_DECAY;
    if (best !== this.#choice) this.#decided = true;
    this.#choice = best;
    return this.#decided ? SIM_RATIOS[best] : undefined;
  }
}

/** createWTinyLFU creates a WTinyLFUCache; it throws TypeError or RangeError on bad options. */
export function createWTinyLFU<K, V>(options: WTinyLFUOptions<K, V>): WTinyLFUCache<K, V> {
  return new WTinyLFUCache(options);
}
