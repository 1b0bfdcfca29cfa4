/**
 * Cache is the interface that every GeeCache eviction policy implements
 * (`@geecache/lru` and the policies in `@geecache/policies`), so `core` can take any of them.
 *
 * Sizes are abstract units, usually bytes: `sizeOf` (or `SetOptions.size`) gives each entry's
 * size and `maxBytes` bounds their sum. Durations are milliseconds.
 */
export interface Cache<K, V> {
  /** Live entries (expired entries not yet reclaimed may be counted until touched or swept). */
  readonly size: number;
  /** Sum of the sizes of the entries held. */
  readonly bytes: number;
  /** The value for key, or undefined if absent or expired. Counts as an access. */
  get(key: K): V | undefined;
  /** Like get, but does not count as an access (no recency or frequency change). */
  peek(key: K): V | undefined;
  /** Whether key is present and unexpired. Does not count as an access. */
  has(key: K): boolean;
  /**
   * Stores value under key. Returns false when the entry was not stored: it is larger than the
   * whole budget, or an admission policy declined it. A replaced value is disposed with reason
   * "replaced".
   */
  set(key: K, value: V, options?: SetOptions): boolean;
  /** Removes key. Returns whether it was present. */
  delete(key: K): boolean;
  /** Removes every entry, reporting each with reason "deleted". */
  clear(): void;
  /** Live [key, value] pairs; the order is the policy's (LRU: most to least recently used). */
  entries(): IterableIterator<[K, V]>;
  /** Live keys, in the same order as entries(). */
  keys(): IterableIterator<K>;
}

/** SetOptions are per-entry overrides for Cache.set. */
export interface SetOptions {
  /** Time to live in milliseconds from now; overrides the cache's ttlMs. Must be finite and > 0. */
  ttlMs?: number;
  /** The entry's size; overrides sizeOf. Must be a finite number >= 0. */
  size?: number;
}

/** EvictionReason says why an entry left the cache. */
export type EvictionReason = "capacity" | "expired" | "deleted" | "replaced";

/** CacheOptions configure any Cache implementation. At least one of maxBytes or maxEntries is required. */
export interface CacheOptions<K, V> {
  /** Budget for the sum of entry sizes. */
  maxBytes?: number;
  /** Budget for the number of entries. */
  maxEntries?: number;
  /** Size of an entry; defaults to 1 per entry. */
  sizeOf?: (value: V, key: K) => number;
  /** Default time to live in milliseconds for entries set without one; none by default. */
  ttlMs?: number;
  /** Called after an entry leaves the cache, with the reason. */
  onEvicted?: (key: K, value: V, reason: EvictionReason) => void;
  /** Clock in milliseconds, for tests; defaults to Date.now. */
  now?: () => number;
}

/** CacheFactory creates a cache from options; `core` takes one to choose the eviction policy. */
export type CacheFactory = <K, V>(options: CacheOptions<K, V>) => Cache<K, V>;
