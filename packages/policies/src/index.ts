export type { Cache, CacheFactory, CacheOptions, EvictionReason, SetOptions } from "@geecache/lru";
export { ARCCache, createARC } from "./arc.ts";
export { createFIFO, FIFOCache } from "./fifo.ts";
export { createLFU, LFUCache } from "./lfu.ts";
export { createLIRS, LIRSCache, type LIRSOptions } from "./lirs.ts";
export {
  cacheFactory,
  createCache,
  isPolicyName,
  type PolicyName,
  policyNames,
} from "./policy.ts";
export { createS3FIFO, S3FIFOCache } from "./s3fifo.ts";
export { createSIEVE, SIEVECache } from "./sieve.ts";
export { createWTinyLFU, WTinyLFUCache, type WTinyLFUOptions } from "./wtinylfu.ts";
