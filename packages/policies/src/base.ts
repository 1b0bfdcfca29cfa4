import type { Cache, CacheOptions, EvictionReason, SetOptions } from "@geecache/lru";
import { Entry } from "./list.ts";

/** Expiry of an entry without a TTL: never. */
const NEVER = Number.POSITIVE_INFINITY;

/** How many entries the rotating expiry sweep examines on each set. */
const SWEEP_CHECKS = 2;

/**
 * PolicyCache is what every policy in this package shares: option checks, the key → entry map,
 * byte and entry budgets, TTLs, the oversize rule and onEvicted. A policy only decides where an
 * entry goes and which one leaves, through the protected hooks below.
 *
 * Budget, TTL and reason rules are @geecache/lru's: an entry larger than maxBytes is not stored
 * (set returns false and removes an older value under the key with reason "deleted"); expired
 * entries are never returned and are reclaimed when touched, by purgeExpired(), and by a bounded
 * sweep of two entries per set (a live Map iterator, so every entry is examined within size / 2
 * sets and no timer exists).
 *
 * onEvicted runs after the operation that evicted has finished and the cache is consistent, in
 * eviction order, so a callback may call back into the cache.
 */
export abstract class PolicyCache<K, V> implements Cache<K, V> {
  readonly #name: string;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #sizeOf: ((value: V, key: K) => number) | undefined;
  readonly #ttlMs: number | undefined;
  readonly #onEvicted: ((key: K, value: V, reason: EvictionReason) => void) | undefined;
  readonly #now: () => number;
  /** Whether weights are sizes (maxBytes given) or 1 per entry. */
  readonly #bySize: boolean;

  /** The budget in weight units: maxBytes when given, else maxEntries. Policies size segments by it. */
  protected readonly capacity: number;

  readonly #map = new Map<K, Entry<K, V>>();
  #bytes = 0;
  /** Set once any TTL is used; until then no clock is read. */
  #ttlInUse: boolean;
  #sweep: MapIterator<Entry<K, V>> | undefined;
  /** The clock reading of the set in progress (0 while no TTL is in use). */
  #opNow = 0;
  /** Pending onEvicted calls, as parallel arrays. */
  #qKeys: K[] = [];
  #qValues: V[] = [];
  #qReasons: EvictionReason[] = [];
  #flushing = false;

  /**
   * evictsFirst says whether set makes room before placing a new entry (most policies, so the
   * newcomer cannot be its own victim) or after (W-TinyLFU, whose newcomer must pass the window).
   */
  protected evictsFirst = true;

  constructor(name: string, options: CacheOptions<K, V>) {
    this.#name = name;
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`${name}: options must be an object`);
    }
    const { maxEntries, maxBytes, sizeOf, ttlMs, onEvicted, now } = options;
    if (maxEntries === undefined && maxBytes === undefined) {
      throw new TypeError(`${name}: at least one of maxEntries or maxBytes is required`);
    }
    for (const [option, value] of [
      ["maxEntries", maxEntries],
      ["maxBytes", maxBytes],
    ] as const) {
      if (value !== undefined && typeof value !== "number") {
        throw new TypeError(`${name}: ${option} must be a number, got ${typeof value}`);
      }
    }
    if (maxEntries !== undefined && !(Number.isSafeInteger(maxEntries) && maxEntries >= 0)) {
      throw new RangeError(
        `${name}: maxEntries must be an integer >= 0, got ${String(maxEntries)}`,
      );
    }
    if (maxBytes !== undefined && !(Number.isFinite(maxBytes) && maxBytes >= 0)) {
      throw new RangeError(
        `${name}: maxBytes must be a finite number >= 0, got ${String(maxBytes)}`,
      );
    }
    if (ttlMs !== undefined) this.#checkTtl(ttlMs, "ttlMs");
    this.#checkFunction(sizeOf, "sizeOf");
    this.#checkFunction(onEvicted, "onEvicted");
    this.#checkFunction(now, "now");
    this.#maxEntries = maxEntries ?? Number.POSITIVE_INFINITY;
    this.#maxBytes = maxBytes ?? Number.POSITIVE_INFINITY;
    this.#sizeOf = sizeOf;
    this.#ttlMs = ttlMs;
    this.#onEvicted = onEvicted;
    this.#now = now ?? Date.now;
    this.#bySize = maxBytes !== undefined;
    this.capacity = this.#bySize ? this.#maxBytes : this.#maxEntries;
    this.#ttlInUse = ttlMs !== undefined;
  }

  // ---- the policy's hooks ----

  /** place links a new entry (already counted in the map and bytes) into the policy's lists. */
  protected abstract place(e: Entry<K, V>): void;
  /** touch records a hit on e (get, or set of a present key). */
  protected abstract touch(e: Entry<K, V>): void;
  /** victim names the entry to evict next, still linked; null if none. */
  protected abstract victim(): Entry<K, V> | null;
  /** unlink removes e from the policy's lists; ghost is true for capacity evictions. */
  protected abstract unlink(e: Entry<K, V>, ghost: boolean): void;
  /** order lists the linked entries, the ones kept longest first. */
  protected abstract order(): Entry<K, V>[];
  /** reset forgets every entry and all history (clear). */
  protected abstract reset(): void;
  /** beforeInsert runs for a new key before any room is made (ARC's ghost hits). */
  protected beforeInsert(_e: Entry<K, V>): void {}
  /** missed records a get of an absent key (W-TinyLFU counts it). */
  protected missed(_key: K): void {}
  /** updated records a set of a present key whose weight was oldW; by default a hit. */
  protected updated(e: Entry<K, V>, oldW: number): void {
    if (e.list !== null) e.list.weight += e.w - oldW;
    this.touch(e);
  }

  /** evict removes e (linked) for capacity: reason "expired" if it had expired, ghosted if asked. */
  protected evict(e: Entry<K, V>, ghost: boolean): void {
    const expired = e.expiry <= this.#opNow;
    this.#drop(e, expired ? "expired" : "capacity", ghost && !expired);
  }

  // ---- Cache ----

  /** size is the number of entries held, counting expired ones not yet reclaimed. */
  get size(): number {
    return this.#map.size;
  }

  /** bytes is the sum of the sizes of the entries held. */
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

  /** get returns the value for key and records the access; undefined if absent or expired. */
  get(key: K): V | undefined {
    const e = this.#map.get(key);
    if (e === undefined) {
      this.missed(key);
      return undefined;
    }
    if (e.expiry !== NEVER && e.expiry <= this.#now()) {
      this.#drop(e, "expired", false);
      this.#flush();
      this.missed(key);
      return undefined;
    }
    this.touch(e);
    return e.value;
  }

  /** peek returns the value for key without recording an access; undefined if absent or expired. */
  peek(key: K): V | undefined {
    const e = this.#live(key);
    return e === undefined ? undefined : e.value;
  }

  /** has reports whether key is present and unexpired, without recording an access. */
  has(key: K): boolean {
    return this.#live(key) !== undefined;
  }

  /**
   * set stores value under key and evicts as the policy chooses until both budgets hold. It
   * returns false, storing nothing, when the entry alone exceeds maxBytes (or maxEntries is 0),
   * removing an older value under key with reason "deleted"; and false when the policy evicted
   * the new entry at once (declined admission).
   */
  set(key: K, value: V, options?: SetOptions): boolean {
    let size = 1;
    let ttl = this.#ttlMs;
    if (options !== undefined) {
      if (options.size !== undefined) size = this.#checkSize(options.size, "size");
      else if (this.#sizeOf !== undefined)
        size = this.#checkSize(this.#sizeOf(value, key), "sizeOf");
      if (options.ttlMs !== undefined) ttl = this.#checkTtl(options.ttlMs, "ttlMs");
    } else if (this.#sizeOf !== undefined) {
      size = this.#checkSize(this.#sizeOf(value, key), "sizeOf");
    }
    if (ttl !== undefined) this.#ttlInUse = true;
    let now = 0;
    if (this.#ttlInUse) {
      now = this.#now();
      this.#opNow = now;
      this.#reclaim(now);
    }

    let e = this.#map.get(key);
    if (size > this.#maxBytes || this.#maxEntries === 0) {
      if (e !== undefined) this.#drop(e, e.expiry <= now ? "expired" : "deleted", false);
      this.#flush();
      return false;
    }
    if (e !== undefined && e.expiry <= now) {
      this.#drop(e, "expired", false);
      e = undefined;
    }
    const expiry = ttl === undefined ? NEVER : now + ttl;
    const w = this.#bySize ? size : 1;
    if (e !== undefined) {
      const old = e.value as V;
      const oldW = e.w;
      this.#bytes += size - e.size;
      e.value = value;
      e.size = size;
      e.w = w;
      e.expiry = expiry;
      this.updated(e, oldW);
      if (old !== value && this.#onEvicted !== undefined) this.#queue(key, old, "replaced");
    } else {
      e = new Entry<K, V>(key, value, size, w, expiry);
      this.beforeInsert(e);
      if (this.evictsFirst) {
        while (this.#bytes + size > this.#maxBytes || this.#map.size >= this.#maxEntries) {
          const v = this.victim();
          if (v === null) break;
          this.evict(v, true);
        }
      }
      this.#map.set(key, e);
      this.#bytes += size;
      this.place(e);
    }
    while (this.#bytes > this.#maxBytes || this.#map.size > this.#maxEntries) {
      const v = this.victim();
      if (v === null) break;
      this.evict(v, true);
    }
    const stored = this.#map.get(key) === e;
    this.#flush();
    return stored;
  }

  /** delete removes key, reporting reason "deleted"; it returns false if key was absent or expired. */
  delete(key: K): boolean {
    const e = this.#map.get(key);
    if (e === undefined) return false;
    const expired = e.expiry !== NEVER && e.expiry <= this.#now();
    this.#drop(e, expired ? "expired" : "deleted", false);
    this.#flush();
    return !expired;
  }

  /**
   * clear removes every entry and all history (ghosts, frequencies), then reports each entry with
   * reason "deleted", in eviction order. Entries that onEvicted adds during those calls stay.
   */
  clear(): void {
    const entries = this.order();
    this.#map.clear();
    this.#bytes = 0;
    this.#sweep = undefined;
    this.reset();
    if (this.#onEvicted !== undefined) {
      for (let i = entries.length - 1; i >= 0; i--) {
        const e = entries[i]!;
        this.#queue(e.key, e.value as V, "deleted");
      }
      this.#flush();
    }
  }

  /** purgeExpired reclaims every expired entry now (reason "expired") and returns how many. O(size). */
  purgeExpired(): number {
    if (!this.#ttlInUse) return 0;
    const now = this.#now();
    let removed = 0;
    for (const e of [...this.#map.values()]) {
      if (e.expiry <= now && this.#map.get(e.key) === e) {
        this.#drop(e, "expired", false);
        removed++;
      }
    }
    this.#flush();
    return removed;
  }

  /**
   * entries yields the live [key, value] pairs in the policy's order (those it would keep longest
   * first), skipping expired ones. Iterating records no access; it walks a snapshot.
   */
  *entries(): IterableIterator<[K, V]> {
    const now = this.#ttlInUse ? this.#now() : 0;
    for (const e of this.order()) {
      if (e.expiry > now && this.#map.get(e.key) === e) yield [e.key, e.value as V];
    }
  }

  /** keys yields the live keys in the same order as entries(). */
  *keys(): IterableIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  /** values yields the live values in the same order as entries(). */
  *values(): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  /** [Symbol.iterator] is entries(). */
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  // ---- internals ----

  #live(key: K): Entry<K, V> | undefined {
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    if (e.expiry !== NEVER && e.expiry <= this.#now()) {
      this.#drop(e, "expired", false);
      this.#flush();
      return undefined;
    }
    return e;
  }

  /** Removes e from the map, the budget and the policy, and queues its report. */
  #drop(e: Entry<K, V>, reason: EvictionReason, ghost: boolean): void {
    this.#map.delete(e.key);
    this.#bytes -= e.size;
    if (this.#onEvicted !== undefined) this.#queue(e.key, e.value as V, reason);
    this.unlink(e, ghost);
  }

  #queue(key: K, value: V, reason: EvictionReason): void {
    this.#qKeys.push(key);
    this.#qValues.push(value);
    this.#qReasons.push(reason);
  }

  /** Runs queued onEvicted calls; calls queued by a callback's own operations run in this loop too. */
  #flush(): void {
    const onEvicted = this.#onEvicted;
    if (onEvicted === undefined || this.#flushing || this.#qKeys.length === 0) return;
    this.#flushing = true;
    const keys = this.#qKeys;
    const values = this.#qValues;
    const reasons = this.#qReasons;
    try {
      for (let i = 0; i < keys.length; i++) onEvicted(keys[i]!, values[i]!, reasons[i]!);
    } finally {
      keys.length = 0;
      values.length = 0;
      reasons.length = 0;
      this.#flushing = false;
    }
  }

  /** Examines up to SWEEP_CHECKS entries under a live Map iterator, which survives deletions. */
  #reclaim(now: number): void {
    for (let k = 0; k < SWEEP_CHECKS; k++) {
      let it = this.#sweep;
      if (it === undefined) {
        if (this.#map.size === 0) return;
        it = this.#map.values();
        this.#sweep = it;
      }
      const r = it.next();
      if (r.done === true) {
        this.#sweep = undefined;
        continue;
      }
      if (r.value.expiry <= now) this.#drop(r.value, "expired", false);
    }
  }

  #checkTtl(ttlMs: unknown, name: string): number {
    if (typeof ttlMs !== "number") {
      throw new TypeError(`${this.#name}: ${name} must be a number, got ${typeof ttlMs}`);
    }
    if (!(Number.isFinite(ttlMs) && ttlMs > 0)) {
      throw new RangeError(`${this.#name}: ${name} must be a finite number > 0, got ${ttlMs}`);
    }
    return ttlMs;
  }

  #checkSize(size: unknown, name: string): number {
    if (typeof size !== "number") {
      throw new TypeError(`${this.#name}: ${name} must be a number, got ${typeof size}`);
    }
    if (!(Number.isFinite(size) && size >= 0)) {
      throw new RangeError(`${this.#name}: ${name} must be a finite number >= 0, got ${size}`);
    }
    return size;
  }

  #checkFunction(f: unknown, name: string): void {
    if (f !== undefined && typeof f !== "function") {
      throw new TypeError(`${this.#name}: ${name} must be a function, got ${typeof f}`);
    }
  }
}
