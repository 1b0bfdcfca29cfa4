import type { Cache, CacheFactory, CacheOptions, EvictionReason, SetOptions } from "./cache.ts";

/** Expiry of an entry without a TTL, and of a free slot: never. */
const NEVER = Number.POSITIVE_INFINITY;

/** Slots the arrays start with when the entry budget is unknown or large. */
const INITIAL_SLOTS = 64;

/** How many entries from the LRU tail each set examines for expiry. */
const TAIL_CHECKS = 2;

/** How many slots the rotating sweep cursor examines on each set. */
const CURSOR_CHECKS = 2;

/** Past the tail, for iteration: never a slot, since the links hold slots as unsigned integers. */
const END = -1;

/** The recency list as it was just before the cache first changed under a paused iteration. */
interface Snapshot<K> {
  readonly links: Uint32Array;
  readonly keys: readonly (K | undefined)[];
  readonly tail: number;
}

/** A paused iteration's claim on the snapshot that the next change of the cache takes. */
interface Pause<K> {
  snapshot: Snapshot<K> | undefined;
}

/** What clear() gives paused iterations instead of a snapshot: they end without reading it. */
const CLEARED: Snapshot<never> = { links: new Uint32Array(0), keys: [], tail: END };

/**
 * LRUCache is a least-recently-used cache bounded by entry count (`maxEntries`), by the sum of
 * entry sizes (`maxBytes`), or both, with optional per-entry time to live.
 *
 * get, peek, has, set and delete are O(1). Entries live in slots: a Map from key to slot index,
 * keys and values in parallel arrays, and the recency list in one typed array of links, so an
 * entry costs no object of its own. Sizes and expiry times get their own typed arrays only
 * once a size or a TTL is first used.
 *
 * Expired entries are never returned. They are reclaimed (reported with reason "expired") when
 * touched by get/peek/has/delete/set, by `purgeExpired()`, and by bounded work on every set
 * while any TTL is in use: up to 2 entries at the LRU tail and 2 slots under a rotating cursor,
 * so each slot is examined at least once every `slots / 2` sets and no timer is ever created.
 */
export class LRUCache<K, V> implements Cache<K, V> {
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #sizeOf: ((value: V, key: K) => number) | undefined;
  readonly #ttlMs: number | undefined;
  readonly #onEvicted: ((key: K, value: V, reason: EvictionReason) => void) | undefined;
  readonly #now: () => number;

  /** key → slot */
  #map = new Map<K, number>();
  #keys: (K | undefined)[] = [];
  #values: (V | undefined)[] = [];
  /**
   * The recency list: slot i's next (toward the LRU end) at 2i, its prev (toward the MRU end) at
   * 2i + 1. Side by side, a slot's two links share a cache line, so moving an entry to the front
   * reads one line for them where a `next` and a `prev` array would take two.
   */
  #links: Uint32Array;
  /** Stack of freed slots, reused before fresh ones. */
  #free: Uint32Array;
  #freeTop = 0;
  /** Slots handed out so far (high-water mark); slots >= fill are fresh. */
  #fill = 0;
  /** Length of the typed arrays. */
  #slots: number;
  /** Most recently used slot; meaningless when empty. */
  #head = 0;
  /** Least recently used slot; meaningless when empty. */
  #tail = 0;
  #bytes = 0;
  /** Entry sizes; undefined while every size is 1. */
  #sizes: Float64Array | undefined;
  /** Absolute expiry times (NEVER if none); undefined until a TTL is used. */
  #expiry: Float64Array | undefined;
  /** Next slot the expiry sweep examines. */
  #cursor = 0;
  /**
   * Iterations paused after their second or later entry, which need a snapshot before the order
   * of the entries ahead of them changes. Undefined, not empty, when there are none, so that a
   * move to the front pays one comparison for it.
   */
  #paused: Pause<K>[] | undefined;
  /** How many times clear() has run: it ends the iterations in progress. */
  #clears = 0;

  /** Use createLRU; the constructor takes the same options. */
  constructor(options: CacheOptions<K, V>) {
    if (typeof options !== "object" || options === null) {
      throw new TypeError("LRUCache: options must be an object");
    }
    const { maxEntries, maxBytes, sizeOf, ttlMs, onEvicted, now } = options;
    if (maxEntries === undefined && maxBytes === undefined) {
      throw new TypeError("LRUCache: at least one of maxEntries or maxBytes is required");
    }
    checkNumber(maxEntries, "maxEntries");
    checkNumber(maxBytes, "maxBytes");
    if (maxEntries !== undefined && !(Number.isSafeInteger(maxEntries) && maxEntries >= 0)) {
      throw new RangeError(
        `LRUCache: maxEntries must be an integer >= 0, got ${String(maxEntries)}`,
      );
    }
    if (maxBytes !== undefined && !(Number.isFinite(maxBytes) && maxBytes >= 0)) {
      throw new RangeError(
        `LRUCache: maxBytes must be a finite number >= 0, got ${String(maxBytes)}`,
      );
    }
    if (ttlMs !== undefined) checkTtl(ttlMs, "ttlMs");
    checkFunction(sizeOf, "sizeOf");
    checkFunction(onEvicted, "onEvicted");
    checkFunction(now, "now");

    this.#maxEntries = maxEntries ?? Number.POSITIVE_INFINITY;
    this.#maxBytes = maxBytes ?? Number.POSITIVE_INFINITY;
    this.#sizeOf = sizeOf;
    this.#ttlMs = ttlMs;
    this.#onEvicted = onEvicted;
    this.#now = now ?? Date.now;

    this.#slots = Math.min(this.#maxEntries, INITIAL_SLOTS);
    this.#links = new Uint32Array(2 * this.#slots);
    this.#free = new Uint32Array(this.#slots);
    if (sizeOf !== undefined) this.#sizes = new Float64Array(this.#slots);
    if (ttlMs !== undefined) this.#expiry = new Float64Array(this.#slots).fill(NEVER);
  }

  /** size is the number of entries held, counting expired ones not yet reclaimed. */
  get size(): number {
    return this.#map.size;
  }

  /** bytes is the sum of the sizes of the entries held (expired ones not yet reclaimed too). */
  get bytes(): number {
    return this.#bytes;
  }

  /** maxEntries is the entry budget (Infinity when only maxBytes was given). */
  get maxEntries(): number {
    return this.#maxEntries;
  }

  /** maxBytes is the size budget (Infinity when only maxEntries was given). */
  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** get returns the value for key and marks it most recently used; undefined if absent or expired. */
  get(key: K): V | undefined {
    const i = this.#map.get(key);
    if (i === undefined) return undefined;
    const expiry = this.#expiry;
    if (expiry !== undefined && expiry[i]! <= this.#now()) {
      this.#remove(i, "expired");
      return undefined;
    }
    if (i !== this.#head) this.#moveToHead(i);
    return this.#values[i];
  }

  /** peek returns the value for key without changing its recency; undefined if absent or expired. */
  peek(key: K): V | undefined {
    const i = this.#map.get(key);
    if (i === undefined) return undefined;
    const expiry = this.#expiry;
    if (expiry !== undefined && expiry[i]! <= this.#now()) {
      this.#remove(i, "expired");
      return undefined;
    }
    return this.#values[i];
  }

  /** has reports whether key is present and unexpired, without changing its recency. */
  has(key: K): boolean {
    const i = this.#map.get(key);
    if (i === undefined) return false;
    const expiry = this.#expiry;
    if (expiry !== undefined && expiry[i]! <= this.#now()) {
      this.#remove(i, "expired");
      return false;
    }
    return true;
  }

  /**
   * set stores value under key as the most recently used entry and evicts least recently used
   * entries (reason "capacity", or "expired" if they had expired) until both budgets hold.
   *
   * It returns false, storing nothing, when the entry alone exceeds maxBytes (or maxEntries is
   * 0); an older value under key is then removed with reason "deleted", so a stale value never
   * outlives a newer one that did not fit. A replaced value is reported with reason "replaced"
   * unless it is the very same value (===), which is still in the cache.
   */
  set(key: K, value: V, options?: SetOptions): boolean {
    let size = 1;
    let ttl = this.#ttlMs;
    if (options !== undefined) {
      if (options.size !== undefined) size = checkSize(options.size, "size");
      else if (this.#sizeOf !== undefined) size = checkSize(this.#sizeOf(value, key), "sizeOf");
      if (options.ttlMs !== undefined) ttl = checkTtl(options.ttlMs, "ttlMs");
    } else if (this.#sizeOf !== undefined) {
      size = checkSize(this.#sizeOf(value, key), "sizeOf");
    }
    if (size !== 1 && this.#sizes === undefined) this.#sizes = this.#fresh(1);
    if (ttl !== undefined && this.#expiry === undefined) this.#expiry = this.#fresh(NEVER);

    let now = 0;
    const expiry = this.#expiry;
    if (expiry !== undefined) {
      now = this.#now();
      this.#reclaim(now);
    }

    let i = this.#map.get(key);
    if (size > this.#maxBytes || this.#maxEntries === 0) {
      if (i !== undefined) {
        this.#remove(i, expiry !== undefined && expiry[i]! <= now ? "expired" : "deleted");
      }
      return false;
    }

    if (i !== undefined && expiry !== undefined && expiry[i]! <= now) {
      this.#remove(i, "expired");
      i = undefined;
    }

    if (i !== undefined) {
      const old = this.#values[i] as V;
      this.#values[i] = value;
      const sizes = this.#sizes;
      if (sizes !== undefined) {
        this.#bytes += size - sizes[i]!;
        sizes[i] = size;
      }
      if (expiry !== undefined) expiry[i] = ttl === undefined ? NEVER : now + ttl;
      if (i !== this.#head) this.#moveToHead(i);
      if (old !== value && this.#onEvicted !== undefined) this.#onEvicted(key, old, "replaced");
    } else {
      while (this.#map.size >= this.#maxEntries) this.#evictTail(now);
      i = this.#alloc();
      this.#keys[i] = key;
      this.#values[i] = value;
      this.#bytes += size;
      if (this.#sizes !== undefined) this.#sizes[i] = size;
      if (this.#expiry !== undefined) this.#expiry[i] = ttl === undefined ? NEVER : now + ttl;
      this.#map.set(key, i);
      if (this.#map.size === 1) {
        this.#head = i;
        this.#tail = i;
      } else {
        this.#links[2 * i] = this.#head;
        this.#links[2 * this.#head + 1] = i;
        this.#head = i;
      }
    }
    // Also covers onEvicted callbacks that added entries while we were evicting.
    while (this.#bytes > this.#maxBytes || this.#map.size > this.#maxEntries) {
      this.#evictTail(now);
    }
    return true;
  }

  /** delete removes key, reporting reason "deleted"; it returns false if key was absent or expired. */
  delete(key: K): boolean {
    const i = this.#map.get(key);
    if (i === undefined) return false;
    const expiry = this.#expiry;
    if (expiry !== undefined && expiry[i]! <= this.#now()) {
      this.#remove(i, "expired");
      return false;
    }
    this.#remove(i, "deleted");
    return true;
  }

  /**
   * clear removes every entry, then reports each with reason "deleted", least recently used
   * first. Entries that onEvicted adds during those calls stay.
   */
  clear(): void {
    this.#clears++;
    const paused = this.#paused;
    if (paused !== undefined) {
      // One check after each yield then covers both clear() and a change.
      for (const pause of paused) pause.snapshot = CLEARED;
      this.#paused = undefined;
    }
    const onEvicted = this.#onEvicted;
    const n = this.#map.size;
    const keys: K[] = [];
    const values: V[] = [];
    if (onEvicted !== undefined) {
      for (let i = this.#tail, k = 0; k < n; k++, i = this.#links[2 * i + 1]!) {
        keys.push(this.#keys[i] as K);
        values.push(this.#values[i] as V);
      }
    }
    this.#map.clear();
    this.#keys = [];
    this.#values = [];
    this.#slots = Math.min(this.#maxEntries, INITIAL_SLOTS);
    this.#links = new Uint32Array(2 * this.#slots);
    this.#free = new Uint32Array(this.#slots);
    if (this.#sizes !== undefined) this.#sizes = new Float64Array(this.#slots);
    if (this.#expiry !== undefined) this.#expiry = new Float64Array(this.#slots).fill(NEVER);
    this.#freeTop = 0;
    this.#fill = 0;
    this.#cursor = 0;
    this.#bytes = 0;
    if (onEvicted !== undefined) {
      for (let k = 0; k < n; k++) onEvicted(keys[k]!, values[k]!, "deleted");
    }
  }

  /**
   * purgeExpired reclaims every expired entry now (reason "expired", in no particular order)
   * and returns how many it removed. O(slots); the bounded sweep in set makes it optional.
   */
  purgeExpired(): number {
    const expiry = this.#expiry;
    if (expiry === undefined) return 0;
    const now = this.#now();
    let removed = 0;
    for (let i = 0; i < this.#fill; i++) {
      // Re-read: an onEvicted callback may have grown the arrays.
      if (this.#expiry![i]! <= now) {
        this.#remove(i, "expired");
        removed++;
      }
    }
    return removed;
  }

  /**
   * entries yields the live [key, value] pairs from most to least recently used, skipping expired
   * ones; a value is read when its pair is yielded. Iterating does not change recency.
   *
   * The loop body may change the cache. The loop never yields an entry that has left the cache,
   * nor one entry twice (a key deleted and set again is a new entry), and it yields every entry
   * present at its start that neither leaves nor is moved to the front (get, set) before the loop
   * reaches it. Entries added or moved to the front during the loop may or may not be yielded;
   * clear() ends the loop.
   *
   * The first removal or move while an iteration past its first entry is paused (in its loop
   * body, or left unfinished) copies the recency list and the keys, some 16 bytes a slot, for
   * that iteration to finish on.
   */
  *entries(): IterableIterator<[K, V]> {
    const clears = this.#clears;
    const now = this.#expiry === undefined ? 0 : this.#now();
    let i = this.#map.size === 0 ? END : this.#head;
    while (i !== END && this.#expiry !== undefined && this.#expiry[i]! <= now) {
      i = i === this.#tail ? END : this.#links[2 * i]!;
    }
    if (i === END) return;

    // The first entry is yielded without a pause, so that a lone `keys().next()` never makes a
    // later change copy the list; #afterFirst finds the way on from what the loop body left.
    const key = this.#keys[i] as K;
    const next = i === this.#tail ? END : this.#links[2 * i]!;
    const nextKey = next === END ? undefined : this.#keys[next];
    yield [key, this.#values[i] as V];
    if (this.#clears !== clears) return;
    i = this.#afterFirst(i, key, next, nextKey);

    const pause: Pause<K> = { snapshot: undefined };
    const paused = this.#paused;
    if (paused === undefined) this.#paused = [pause];
    else paused.push(pause);
    // Until the pause gets a snapshot nothing is deleted or moved, so the tail stays put.
    const tail = this.#tail;
    try {
      while (i !== END) {
        // Read before the yield: while paused, the entries ahead keep their order (a delete or
        // move first gives the pause a snapshot), but slot i itself may be freed and reused.
        const next = i === tail ? END : this.#links[2 * i]!;
        const expiry = this.#expiry;
        if (expiry === undefined || expiry[i]! > now) {
          yield [this.#keys[i] as K, this.#values[i] as V];
          if (pause.snapshot !== undefined) {
            if (this.#clears !== clears) return;
            return yield* this.#rest(pause.snapshot, next, clears, now);
          }
        }
        i = next;
      }
    } finally {
      if (pause.snapshot === undefined) this.#unpause(pause);
    }
  }

  /** keys yields the live keys from most to least recently used, like entries(). */
  *keys(): IterableIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  /** values yields the live values from most to least recently used, like entries(). */
  *values(): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  /** [Symbol.iterator] is entries(). */
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /**
   * Where iteration goes on after its first entry (slot i, key), when next/nextKey followed it.
   * Only that entry was yielded, and entries moved or added by the loop went to the front, ahead
   * of every untouched one. So if slot i or slot next still holds its key, every untouched entry
   * still follows it and no yielded one does; if neither does, the first entry is gone and the
   * head is safe.
   */
  #afterFirst(i: number, key: K, next: number, nextKey: K | undefined): number {
    const map = this.#map;
    if (map.get(key) === i) return i === this.#tail ? END : this.#links[2 * i]!;
    if (next !== END && map.get(nextKey as K) === next) return next;
    return map.size === 0 ? END : this.#head;
  }

  /** Goes on with an iteration over snapshot s from slot i, yielding its entries still present. */
  *#rest(s: Snapshot<K>, i: number, clears: number, now: number): Generator<[K, V], void> {
    for (; i !== END; i = i === s.tail ? END : s.links[2 * i]!) {
      const key = s.keys[i] as K;
      const j = this.#map.get(key);
      if (j === undefined) continue;
      const expiry = this.#expiry;
      if (expiry !== undefined && expiry[j]! <= now) continue;
      yield [key, this.#values[j] as V];
      if (this.#clears !== clears) return;
    }
  }

  /** Gives every paused iteration a snapshot, before the order of the entries changes. */
  #snapshot(): void {
    const snapshot: Snapshot<K> = {
      links: this.#links.slice(0, 2 * this.#fill),
      keys: this.#keys.slice(0, this.#fill),
      tail: this.#tail,
    };
    for (const pause of this.#paused!) pause.snapshot = snapshot;
    this.#paused = undefined;
  }

  /** Drops pause, which has no snapshot yet and so is still among #paused. */
  #unpause(pause: Pause<K>): void {
    const paused = this.#paused!;
    if (paused.length === 1) this.#paused = undefined;
    else paused.splice(paused.indexOf(pause), 1);
  }

  /** Examines a bounded number of entries for expiry: the LRU tail, where entries with equal TTLs expire first, then a cursor over all slots, which finds the rest. */
  #reclaim(now: number): void {
    const expiry = this.#expiry!;
    for (let k = 0; k < TAIL_CHECKS && this.#map.size > 0; k++) {
      const t = this.#tail;
      if (expiry[t]! > now) break;
      this.#remove(t, "expired");
    }
    for (let k = 0; k < CURSOR_CHECKS; k++) {
      let c = this.#cursor;
      if (c >= this.#fill) c = 0;
      this.#cursor = c + 1;
      // Free and TTL-less slots hold NEVER; the array may have been replaced by a callback.
      if (this.#expiry![c]! <= now) this.#remove(c, "expired");
    }
  }

  #evictTail(now: number): void {
    const t = this.#tail;
    const expiry = this.#expiry;
    this.#remove(t, expiry !== undefined && expiry[t]! <= now ? "expired" : "capacity");
  }

  #moveToHead(i: number): void {
    if (this.#paused !== undefined) this.#snapshot();
    const links = this.#links;
    if (i === this.#tail) {
      this.#tail = links[2 * i + 1]!;
    } else {
      const n = links[2 * i]!;
      const p = links[2 * i + 1]!;
      links[2 * p] = n;
      links[2 * n + 1] = p;
    }
    links[2 * i] = this.#head;
    links[2 * this.#head + 1] = i;
    this.#head = i;
  }

  /** Unlinks slot i, frees it, then reports it; the cache is consistent before onEvicted runs. */
  #remove(i: number, reason: EvictionReason): void {
    if (this.#paused !== undefined) this.#snapshot();
    const key = this.#keys[i] as K;
    const value = this.#values[i] as V;
    this.#map.delete(key);
    const links = this.#links;
    if (i === this.#head) {
      this.#head = links[2 * i]!;
    } else if (i === this.#tail) {
      this.#tail = links[2 * i + 1]!;
    } else {
      const n = links[2 * i]!;
      const p = links[2 * i + 1]!;
      links[2 * p] = n;
      links[2 * n + 1] = p;
    }
    this.#bytes -= this.#sizes === undefined ? 1 : this.#sizes[i]!;
    this.#keys[i] = undefined;
    this.#values[i] = undefined;
    if (this.#expiry !== undefined) this.#expiry[i] = NEVER;
    this.#free[this.#freeTop++] = i;
    if (this.#onEvicted !== undefined) this.#onEvicted(key, value, reason);
  }

  #alloc(): number {
    if (this.#freeTop > 0) return this.#free[--this.#freeTop]!;
    const i = this.#fill;
    if (i === this.#slots) this.#grow();
    this.#fill = i + 1;
    return i;
  }

  /** Doubles the slot arrays, up to maxEntries so that a full count-bounded cache wastes none. */
  #grow(): void {
    const slots = Math.min(Math.max(this.#slots * 2, 16), this.#maxEntries);
    this.#links = resize(this.#links, 2 * slots);
    this.#free = resize(this.#free, slots);
    if (this.#sizes !== undefined) this.#sizes = resize(this.#sizes, slots);
    if (this.#expiry !== undefined) {
      const expiry = new Float64Array(slots).fill(NEVER);
      expiry.set(this.#expiry);
      this.#expiry = expiry;
    }
    this.#slots = slots;
  }

  /** A Float64Array for all slots, holding fill in every slot (used when sizes or TTLs start). */
  #fresh(fill: number): Float64Array {
    return new Float64Array(this.#slots).fill(fill);
  }
}

/**
 * createLRU creates an LRUCache. At least one of `maxEntries` or `maxBytes` is required; it
 * throws TypeError or RangeError on bad options.
 */
export function createLRU<K, V>(options: CacheOptions<K, V>): LRUCache<K, V> {
  return new LRUCache(options);
}

function resize<T extends Uint32Array | Float64Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}

function checkTtl(ttlMs: unknown, name: string): number {
  if (typeof ttlMs !== "number") {
    throw new TypeError(`LRUCache: ${name} must be a number, got ${typeof ttlMs}`);
  }
  if (!(Number.isFinite(ttlMs) && ttlMs > 0)) {
    throw new RangeError(`LRUCache: ${name} must be a finite number > 0, got ${ttlMs}`);
  }
  return ttlMs;
}

function checkSize(size: unknown, name: string): number {
  if (typeof size !== "number") {
    throw new TypeError(`LRUCache: ${name} must be a number, got ${typeof size}`);
  }
  if (!(Number.isFinite(size) && size >= 0)) {
    throw new RangeError(`LRUCache: ${name} must be a finite number >= 0, got ${size}`);
  }
  return size;
}

function checkNumber(n: unknown, name: string): void {
  if (n !== undefined && typeof n !== "number") {
    throw new TypeError(`LRUCache: ${name} must be a number, got ${typeof n}`);
  }
}

function checkFunction(f: unknown, name: string): void {
  if (f !== undefined && typeof f !== "function") {
    throw new TypeError(`LRUCache: ${name} must be a function, got ${typeof f}`);
  }
}

/** lruFactory is createLRU as a CacheFactory, for core's choice of eviction policy. */
export const lruFactory: CacheFactory = createLRU;
