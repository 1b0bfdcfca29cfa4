import { type Cache, type CacheFactory, type CacheOptions, createLRU } from "@geecache/lru";
import { createARC } from "./arc.ts";
import { createFIFO } from "./fifo.ts";
import { createLFU } from "./lfu.ts";
import { createLIRS } from "./lirs.ts";
import { createS3FIFO } from "./s3fifo.ts";
import { createSIEVE } from "./sieve.ts";
import { createWTinyLFU } from "./wtinylfu.ts";

/** policyNames lists every eviction policy createCache knows, "lru" (the default) first. */
export const policyNames = [
  "lru",
  "fifo",
  "lfu",
  "arc",
  "wtinylfu",
  "s3fifo",
  "sieve",
  "lirs",
] as const;

/** PolicyName names an eviction policy, as a node's `--policy` flag takes it. */
export type PolicyName = (typeof policyNames)[number];

/** isPolicyName reports whether name is one of policyNames (for parsing flags and config). */
export function isPolicyName(name: unknown): name is PolicyName {
  return typeof name === "string" && (policyNames as readonly string[]).includes(name);
}

/**
 * createCache creates a cache with the named eviction policy ("lru" is @geecache/lru's
 * createLRU). It throws TypeError for an unknown name and, like every factory, TypeError or
 * RangeError on bad options.
 */
export function createCache<K, V>(policy: PolicyName, options: CacheOptions<K, V>): Cache<K, V> {
  switch (policy) {
    case "lru":
      return createLRU(options);
    case "fifo":
      return createFIFO(options);
    case "lfu":
      return createLFU(options);
    case "arc":
      return createARC(options);
    case "wtinylfu":
      return createWTinyLFU(options);
    case "s3fifo":
      return createS3FIFO(options);
    case "sieve":
      return createSIEVE(options);
    case "lirs":
      return createLIRS(options);
    default:
      throw new TypeError(
        `createCache: unknown policy ${JSON.stringify(String(policy))}; expected one of ${policyNames.join(", ")}`,
      );
  }
}

/**
 * cacheFactory returns createCache bound to one policy, as the CacheFactory that
 * @geecache/core takes for a group's eviction policy. It throws TypeError for an unknown name
 * at once, not at the first cache.
 */
export function cacheFactory(policy: PolicyName): CacheFactory {
  if (!isPolicyName(policy)) createCache(policy, { maxEntries: 0 });
  return (options) => createCache(policy, options);
}
