import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LRUCache } from "@geecache/lru";
import {
  ARCCache,
  cacheFactory,
  createCache,
  FIFOCache,
  isPolicyName,
  LFUCache,
  LIRSCache,
  type PolicyName,
  policyNames,
  S3FIFOCache,
  SIEVECache,
  WTinyLFUCache,
} from "./index.ts";

describe("createCache", () => {
  test("policyNames has lru first and every policy once", () => {
    assert.equal(policyNames[0], "lru");
    assert.deepEqual(
      [...policyNames].sort(),
      ["arc", "fifo", "lfu", "lirs", "lru", "s3fifo", "sieve", "wtinylfu"].sort(),
    );
  });

  test("each name makes its policy", () => {
    const classes: Record<PolicyName, new (...args: never[]) => unknown> = {
      lru: LRUCache,
      fifo: FIFOCache,
      lfu: LFUCache,
      arc: ARCCache,
      wtinylfu: WTinyLFUCache,
      s3fifo: S3FIFOCache,
      sieve: SIEVECache,
      lirs: LIRSCache,
    };
    for (const name of policyNames) {
      const cache = createCache<string, number>(name, { maxEntries: 2 });
      assert.ok(cache instanceof classes[name], name);
      assert.equal(cache.set("a", 1), true);
      assert.equal(cache.get("a"), 1);
    }
  });

  test("an unknown name is a TypeError naming the choices", () => {
    assert.throws(() => createCache("mru" as PolicyName, { maxEntries: 1 }), {
      name: "TypeError",
      message: /unknown policy "mru"; expected one of lru, fifo/,
    });
  });

  test("cacheFactory binds a policy for core and rejects an unknown one at once", () => {
    const factory = cacheFactory("s3fifo");
    const cache = factory<string, number>({ maxEntries: 1 });
    assert.ok(cache instanceof S3FIFOCache);
    assert.throws(() => cacheFactory("nope" as PolicyName), TypeError);
  });

  test("isPolicyName accepts exactly the names", () => {
    for (const name of policyNames) assert.equal(isPolicyName(name), true);
    for (const v of ["LRU", "", "toString", 1, undefined]) assert.equal(isPolicyName(v), false);
  });
});
