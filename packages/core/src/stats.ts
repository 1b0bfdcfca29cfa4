/** CacheStats describe one of a group's two caches (main or hot), as groupcache's CacheStats. */
export interface CacheStats {
  /** Bytes held: the sum of UTF-8 key length plus value length of every entry. */
  bytes: number;
  /** Entries held. */
  items: number;
  /** Lookups in this cache. */
  gets: number;
  /** Lookups that found a live value. */
  hits: number;
  /** Entries evicted to make room (capacity), not counting expiries or removals. */
  evictions: number;
}

/**
 * GroupStats are a group's counters, with groupcache's names and meanings. All counts are since
 * the group was created; the object is a snapshot, safe to serialize.
 */
export interface GroupStats {
  /** Every get, including the ones peers forwarded to this node. */
  gets: number;
  /** Gets answered from either cache (main or hot). */
  cacheHits: number;
  /** The part of cacheHits answered by the hot cache. */
  hotCacheHits: number;
  /** Gets answered "not found" from the negative cache, without a load. */
  negativeHits: number;
  /** Values (or not-founds) fetched from the owner peer, not counting failures. */
  peerLoads: number;
  /**
   * Failed fetches from a peer (unreachable, out of time, broken); each was followed by a local
   * load. An owner that answers that its own load failed is not counted: that error is final.
   */
  peerErrors: number;
  /** Gets that missed every cache: gets - cacheHits - negativeHits. */
  loads: number;
  /** Loads left after singleflight: each one fetched from a peer or called the getter. */
  loadsDeduped: number;
  /** Getter calls that returned a value. */
  localLoads: number;
  /** Getter calls that failed (not counting "not found"). */
  localLoadErrs: number;
  /** Loads answered "not found", by the getter or by the owner peer. */
  notFound: number;
  /**
   * Loads answered by the key's previous owner from its cache after a membership change
   * (hand-off), instead of by the getter.
   */
  handoffs: number;
  /**
   * Cache-only gets from peers taking keys over after a membership change, answered from this
   * node's caches or NOT_FOUND. Not counted in gets, hits or serverRequests.
   */
  handoffRequests: number;
  /** Gets that a peer forwarded to this node (fromPeer: true). */
  serverRequests: number;
  /** Capacity evictions from both caches. */
  evictions: number;
  mainCache: CacheStats;
  hotCache: CacheStats;
}
