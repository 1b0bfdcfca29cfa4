export type { Cache, CacheFactory, CacheOptions, EvictionReason, SetOptions } from "./cache.ts";
export { createLRU, LRUCache, lruFactory } from "./lru.ts";
