import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLRU } from "@geecache/lru";
import { createLIRS } from "./index.ts";

type Accessible = { get(k: number): unknown; set(k: number, v: number): boolean };

/** A get, and a set after a miss; true on a hit. */
function access(cache: Accessible, k: number): boolean {
  if (cache.get(k) !== undefined) return true;
  cache.set(k, k);
  return false;
}

describe("LIRS", () => {
  test("a loop a little larger than the cache: LRU hits nothing, LIRS keeps its LIR keys", () => {
    const lirs = createLIRS<number, number>({ maxEntries: 100 }); // 99 LIR, 1 HIR
    const lru = createLRU<number, number>({ maxEntries: 100 });
    let lirsHits = 0;
    let lruHits = 0;
    for (let pass = 0; pass < 20; pass++) {
      for (let k = 0; k < 120; k++) {
        if (access(lirs, k)) lirsHits++;
        if (access(lru, k)) lruHits++;
      }
    }
    assert.equal(lruHits, 0);
    // The first 99 keys become LIR in the first pass and are hit in each of the 19 passes after.
    assert.ok(lirsHits >= 99 * 19, `LIRS hits ${lirsHits}`);
  });

  test("a key seen again while remembered becomes LIR; the oldest LIR key is demoted", () => {
    const evicted: number[] = [];
    const cache = createLIRS<number, number>({
      maxEntries: 10, // 9 LIR, 1 HIR
      onEvicted: (k) => evicted.push(k),
    });
    for (let k = 0; k < 9; k++) access(cache, k); // warm-up: 0..8 are LIR
    access(cache, 100); // HIR, in Q and in the stack
    access(cache, 101); // evicts 100, which stays in the stack as a non-resident key
    assert.deepEqual(evicted, [100]);
    assert.equal(cache.nonResident, 1);
    access(cache, 100); // remembered: evicts 101, and 100 is LIR; 0 is demoted to Q
    assert.deepEqual(evicted, [100, 101]);
    assert.equal(cache.has(100), true);
    assert.equal(cache.has(0), true);
    for (let k = 1000; k < 1050; k++) access(cache, k); // a scan churns Q only
    assert.deepEqual(evicted.slice(0, 4), [100, 101, 0, 1000]);
    for (let k = 1; k < 9; k++) assert.equal(cache.has(k), true, `LIR key ${k}`);
    assert.equal(cache.has(100), true);
    assert.equal(cache.has(0), false);
  });

  test("a resident HIR key hit while below the stack's top is promoted", () => {
    const evicted: number[] = [];
    const cache = createLIRS<number, number>({
      maxEntries: 10,
      onEvicted: (k) => evicted.push(k),
    });
    for (let k = 0; k < 9; k++) access(cache, k);
    access(cache, 100);
    assert.equal(cache.get(100), 100); // still the stack's top: stays HIR
    access(cache, 5); // a LIR key goes above it
    assert.equal(cache.get(100), 100); // now promoted; 0 is demoted to Q
    assert.deepEqual(
      [...cache.keys()],
      [100, 5, 8, 7, 6, 4, 3, 2, 1, 0], // LIR by recency, then Q
    );
    access(cache, 200); // Q's oldest, 0, makes room
    assert.deepEqual(evicted, [0]);
  });

  test("a scan of one-off keys leaves the LIR keys in place", () => {
    const cache = createLIRS<number, number>({ maxEntries: 100 });
    for (let round = 0; round < 2; round++) for (let k = 0; k < 99; k++) access(cache, k);
    for (let k = 1000; k < 11_000; k++) access(cache, k);
    for (let k = 0; k < 99; k++) assert.equal(cache.has(k), true, `key ${k}`);
  });

  test("hirRatio sets the share of resident HIR entries, and bad ratios are refused", () => {
    const cache = createLIRS<number, number>({ maxEntries: 10, hirRatio: 0.3 }); // 7 LIR, 3 HIR
    for (let k = 0; k < 10; k++) access(cache, k);
    for (let k = 100; k < 200; k++) access(cache, k); // one-off keys churn the HIR share only
    assert.deepEqual([...cache.keys()], [6, 5, 4, 3, 2, 1, 0, 199, 198, 197]);
    for (const hirRatio of [0, 1, -0.5, Number.NaN, "0.1"]) {
      assert.throws(
        () => createLIRS({ maxEntries: 10, hirRatio: hirRatio as number }),
        RangeError,
        String(hirRatio),
      );
    }
  });

  test("a LIR entry placed above remembered keys only: they are pruned, never evicted as entries", () => {
    // An entry too big for the LIR share (99 of 100) is HIR; once it is evicted, S holds only
    // its non-resident key. The next LIR entry goes on top of it, and S's bottom must be LIR
    // again, or demoting LIR weight would take the remembered key for an entry.
    const events: [string, number | undefined, string][] = [];
    const cache = createLIRS<string, number>({
      maxBytes: 100,
      onEvicted: (k, v, r) => events.push([k, v, r]),
    });
    cache.set("a", 1, { size: 100 });
    cache.set("b", 2, { size: 1 }); // evicts a, remembered; b is LIR
    cache.set("b", 3, { size: 100 }); // b outgrows the LIR share and is demoted
    assert.equal(cache.nonResident, 0);
    cache.set("c", 4, { size: 1 });
    cache.set("a", 5, { size: 1 });
    assert.deepEqual([...cache.keys()].sort(), ["a", "c"]);
    assert.equal(cache.bytes, 2);
    cache.clear();
    assert.deepEqual(events, [
      ["a", 1, "capacity"],
      ["b", 2, "replaced"],
      ["b", 3, "capacity"],
      ["c", 4, "deleted"],
      ["a", 5, "deleted"],
    ]);
  });

  test("remembered non-resident keys stay within twice the budget, by weight and by count", () => {
    const cache = createLIRS<number, number>({ maxEntries: 100 });
    let seed = 7;
    for (let i = 0; i < 100_000; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      // Half the keys come back soon, so non-resident keys keep being promoted and forgotten.
      access(cache, i % 2 === 0 ? i : seed % 5000);
      assert.ok(cache.nonResident <= 200, `${cache.nonResident} at ${i}`);
    }
    assert.ok(cache.nonResident > 100);

    // Entries of size 0 weigh nothing: the count bound holds them.
    const free = createLIRS<number, number>({ maxBytes: 100, maxEntries: 10, sizeOf: () => 0 });
    for (let i = 0; i < 10_000; i++) {
      access(free, i);
      assert.ok(free.nonResident <= 22, `${free.nonResident} at ${i}`);
    }
  });
});
