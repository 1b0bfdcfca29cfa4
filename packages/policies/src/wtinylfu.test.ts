import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createWTinyLFU } from "./index.ts";
import { createKeyHasher, FrequencySketch } from "./sketch.ts";

/** The simulator's access: a get, and a set after a miss. */
function access<K>(cache: { get(k: K): unknown; set(k: K, v: number): boolean }, k: K): void {
  if (cache.get(k) === undefined) cache.set(k, 1);
}

interface NumberCache {
  get(k: number): unknown;
  set(k: number, v: number, options?: { size: number }): boolean;
}

/** Replays n accesses of keyOf(0 .. n-1), each set of size sizeOf(key) if given; returns the hits. */
function replay(
  cache: NumberCache,
  keyOf: (i: number) => number,
  n = 40_000,
  sizeOf?: (k: number) => number,
): number {
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const k = keyOf(i);
    if (cache.get(k) !== undefined) hits++;
    else cache.set(k, 1, sizeOf === undefined ? undefined : { size: sizeOf(k) });
  }
  return hits;
}

/** Every key requested twice, gap requests apart, and never again: recency pays. */
const reuse = (gap: number) => (i: number) => (i % 2 === 0 ? i : i - gap);
/** A stable hot set of 80 keys among one-off keys: frequency pays. */
const hotAmongOneOffs = (i: number) => (i % 2 === 0 ? i % 160 : 1000 + i);

describe("W-TinyLFU", () => {
  test("rejects a one-hit wonder instead of evicting a frequent entry", () => {
    const evicted: number[] = [];
    // A fixed one-entry window: this is about admission, not the climber.
    const cache = createWTinyLFU<number, number>({
      maxEntries: 100,
      adaptive: false,
      onEvicted: (k) => evicted.push(k),
    });
    for (let round = 0; round < 8; round++) for (let k = 0; k < 100; k++) access(cache, k);
    assert.equal(cache.size, 100);
    evicted.length = 0;
    // 500 one-hit wonders (the sketch halves once meanwhile, after 1000 counts).
    for (let k = 1000; k < 1500; k++) access(cache, k);
    // Each newcomer waits in the one-entry window, then loses to probation's oldest.
    const hot = [...Array(100).keys()].filter((k) => cache.has(k));
    assert.ok(hot.length >= 98, `only ${hot.length} frequent keys survived`);
    assert.ok(evicted.filter((k) => k >= 1000).length >= 498);
    assert.equal(cache.has(1499), true, "the newest waits in the window");
    assert.equal(cache.has(1498), false);
  });

  test("admits a newcomer that was requested more often than the entry it displaces", () => {
    const cache = createWTinyLFU<string, number>({ maxEntries: 100 });
    for (let k = 0; k < 100; k++) access(cache, `once${k}`);
    for (let i = 0; i < 5; i++) cache.get("popular"); // misses still count
    assert.equal(cache.frequency("popular"), 5);
    cache.set("popular", 1);
    access(cache, "next"); // pushes "popular" out of the window: it is admitted
    assert.equal(cache.has("popular"), true);
    assert.equal(cache.size, 100);
  });

  test("a get that misses and the set right after it count as one request", () => {
    const cache = createWTinyLFU<string, number>({ maxEntries: 10 });
    access(cache, "a");
    assert.equal(cache.frequency("a"), 1);
    cache.set("b", 1);
    assert.equal(cache.frequency("b"), 1);
    cache.get("a");
    assert.equal(cache.frequency("a"), 2);
  });

  test("a hit in probation promotes to protected; protected overflow is demoted, not evicted", () => {
    const cache = createWTinyLFU<number, number>({ maxEntries: 10, windowRatio: 0 });
    for (let k = 0; k < 10; k++) access(cache, k);
    for (let k = 0; k < 10; k++) access(cache, k); // 8 fit in protected, 2 are demoted
    assert.equal(cache.size, 10);
    // keys(): protected (most recent first), then probation, then the (empty) window.
    assert.deepEqual([...cache.keys()], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    access(cache, 10); // the newcomer (1 count) loses to probation's oldest, 0 (2 counts)
    assert.equal(cache.has(10), false);
    assert.equal(cache.has(0), true);
  });

  test("the hill climber grows the window when recency pays", () => {
    // Every key is requested twice, 20 requests apart, and never again: only a window larger than
    // the reuse distance catches the second request (the sketch rejects such candidates).
    const fixed = createWTinyLFU<number, number>({ maxEntries: 100, adaptive: false });
    const adaptive = createWTinyLFU<number, number>({ maxEntries: 100, adaptive: "climb" });
    const fixedHits = replay(fixed, reuse(21));
    const adaptiveHits = replay(adaptive, reuse(21));
    assert.equal(fixed.windowMax, 1);
    assert.ok(adaptive.windowMax > 10, `window ${adaptive.windowMax}`);
    assert.ok(adaptiveHits > 2 * fixedHits, `hits ${adaptiveHits} vs ${fixedHits}`);
  });

  test("the hill climber's first step grows a small window (from 1% there is nothing to shrink)", () => {
    const cache = createWTinyLFU<number, number>({ maxEntries: 100, adaptive: "climb" });
    assert.equal(cache.windowMax, 1);
    // One sample is 10 × capacity requests; all misses here.
    for (let k = 0; k < 999; k++) cache.set(k, 1);
    assert.equal(cache.windowMax, 1);
    cache.set(999, 1);
    assert.equal(cache.windowMax, 7, "a step of 6.25% of 100 entries, truncated");
  });

  test("the hill climber shrinks a large window when frequency pays", () => {
    // A stable hot set of 80 keys among a stream of one-off keys.
    const cache = createWTinyLFU<number, number>({
      maxEntries: 100,
      windowRatio: 0.5,
      adaptive: "climb",
    });
    assert.equal(cache.windowMax, 50);
    let sum = 0;
    let samples = 0;
    for (let i = 0; i < 40_000; i++) {
      access(cache, hotAmongOneOffs(i));
      if (i >= 20_000 && i % 1000 === 0) {
        sum += cache.windowMax;
        samples++;
      }
    }
    // It wanders (each sample's hit ratio is noisy) but stays well below where it started.
    assert.ok(sum / samples < 25, `mean window ${sum / samples}`);
    assert.equal(cache.size, 100);
  });

  test("the simulation grows the window when recency pays", () => {
    const fixed = createWTinyLFU<number, number>({ maxEntries: 100, adaptive: false });
    const cache = createWTinyLFU<number, number>({ maxEntries: 100 });
    const fixedHits = replay(fixed, reuse(21));
    const hits = replay(cache, reuse(21));
    // Its first period (1,000 requests) ends with the window at the share that missed least.
    assert.ok(cache.windowMax >= 20, `window ${cache.windowMax}`);
    assert.ok(hits > 5 * fixedHits, `hits ${hits} vs ${fixedHits}`);
    // true is the same as "simulate".
    const same = createWTinyLFU<number, number>({ maxEntries: 100, adaptive: true });
    assert.equal(replay(same, reuse(21)), hits);
    assert.equal(same.windowMax, cache.windowMax);
  });

  test("the simulation shrinks a large window when frequency pays", () => {
    // A stable hot set of 80 keys among a stream of one-off keys.
    const cache = createWTinyLFU<number, number>({ maxEntries: 100, windowRatio: 0.5 });
    let max = 0;
    for (let i = 0; i < 40_000; i++) {
      access(cache, hotAmongOneOffs(i));
      if (i >= 2_000) max = Math.max(max, cache.windowMax);
    }
    // Unlike the climber's, its choice does not wander: every miniature saw the same requests.
    assert.ok(max <= 5, `largest window after the first periods ${max}`);
    assert.equal(cache.size, 100);
  });

  test("a large cache's simulation samples its keys and still finds the window", () => {
    // 10,000 entries: the miniatures hold 100 entries each and see one key in 100.
    const fixed = createWTinyLFU<number, number>({ maxEntries: 10_000, adaptive: false });
    const cache = createWTinyLFU<number, number>({ maxEntries: 10_000 });
    const fixedHits = replay(fixed, reuse(2001), 400_000);
    const hits = replay(cache, reuse(2001), 400_000);
    assert.ok(cache.windowMax >= 2_000, `window ${cache.windowMax}`);
    assert.ok(hits > 5 * fixedHits, `hits ${hits} vs ${fixedHits}`);
    assert.equal(cache.simulationRate, 100);
    assert.equal(fixed.simulationRate, undefined);
    assert.equal(createWTinyLFU({ maxEntries: 150 }).simulationRate, undefined, "not started");
  });

  test("on a byte budget the simulation starts once the cache is first full", () => {
    const cache = createWTinyLFU<number, number>({ maxBytes: 100_000 });
    for (let k = 0; k < 9_999; k++) cache.set(-1 - k, 1, { size: 10 });
    assert.equal(cache.simulationRate, undefined, "one entry short of full");
    cache.set(-10_000, 1, { size: 10 });
    assert.equal(cache.simulationRate, 100, "10,000 entries held");
    replay(cache, reuse(2001), 400_000, () => 10);
    assert.ok(cache.windowMax >= 20_000, `window ${cache.windowMax} bytes`);
    cache.clear();
    assert.equal(cache.simulationRate, undefined, "clear() restarts it");
  });

  test("on a byte budget the sample rate follows the entries held", () => {
    // Full with one large entry at first: a rate of 1 would replay every request 11 times. Sizes
    // of 7 and 13 bytes do not add up to the budget, so the cache is never exactly full again.
    const cache = createWTinyLFU<number, number>({ maxBytes: 100_000 });
    cache.set(-1, 1, { size: 100_000 });
    cache.get(-1);
    assert.equal(cache.simulationRate, 1);
    replay(cache, reuse(2001), 200_000, (k) => (k % 2 === 0 ? 7 : 13));
    const rate = cache.simulationRate ?? 0;
    // Each small cache holds between 50 and 400 of the entries' worth.
    assert.ok(
      cache.size / rate >= 50 && cache.size / rate < 400,
      `${cache.size} held, rate ${rate}`,
    );
  });

  test("on a byte budget the sample rate comes down when the entries held do", () => {
    const cache = createWTinyLFU<number, number>({ maxBytes: 100_000 });
    for (let k = 0; k < 10_000; k++) cache.set(k, 1, { size: 10 });
    cache.get(0);
    assert.equal(cache.simulationRate, 100);
    // Down to 4,000 entries of 25 bytes: still full, and 40 a small cache at that rate.
    for (let k = 0; k < 10_000; k++) cache.delete(k);
    for (let k = 10_000; k < 14_000; k++) cache.set(k, 1, { size: 25 });
    cache.get(10_000);
    assert.equal(cache.simulationRate, 40);
  });

  test("the simulation weighs earlier periods less and less", () => {
    // 40 periods where a large window pays, then a stable hot set among one-off keys, where a
    // small one does. Halving each period, the old periods are outweighed within a few.
    const cache = createWTinyLFU<number, number>({ maxEntries: 100 });
    replay(cache, reuse(21));
    const large = cache.windowMax;
    assert.ok(large >= 20, `window ${large}`);
    // Keys above the first phase's.
    const phase2 = (i: number) => 1_000_000 + hotAmongOneOffs(i);
    replay(cache, phase2, 3_000);
    // The old periods still count: three new ones do not outweigh them yet (with only the last
    // period counting, the window drops to one entry here).
    assert.equal(cache.windowMax, large, "after 3 periods");
    replay(cache, (i) => phase2(3_000 + i), 7_000);
    assert.ok(cache.windowMax <= 5, `window ${cache.windowMax} after 10 periods`);
  });

  test("with both budgets the simulation samples by the one that binds", () => {
    // The entry budget alone would sample one key in 10,000 into caches of 0.1 bytes.
    const cache = createWTinyLFU<number, number>({ maxEntries: 1_000_000, maxBytes: 1000 });
    replay(cache, reuse(21), 40_000, () => 10);
    assert.ok(cache.windowMax >= 200, `window ${cache.windowMax} bytes`);
  });

  test("requests that no window would catch leave the window where it started", () => {
    // 25% is not one of the simulated shares, and the nearest one (20%) is not taken either.
    const cache = createWTinyLFU<number, number>({ maxEntries: 100, windowRatio: 0.25 });
    for (let k = 0; k < 40_000; k++) cache.set(k, 1);
    assert.equal(cache.windowMax, 25);
  });

  test("on a byte budget the sketch grows with the entry count, without forgetting each time", () => {
    const cache = createWTinyLFU<number, number>({ maxBytes: 100_000 });
    for (let k = 0; k < 5000; k++) cache.set(k, 1, { size: 10 });
    for (let r = 0; r < 3; r++) for (let k = 0; k < 5000; k++) cache.get(k);
    assert.ok(cache.frequency(4999) >= 3, `frequency ${cache.frequency(4999)}`);
    assert.equal(cache.bytes, 50_000);
  });

  test("options are checked", () => {
    assert.throws(() => createWTinyLFU({ maxEntries: 1, windowRatio: 2 }), RangeError);
    assert.throws(() => createWTinyLFU({ maxEntries: 1, windowRatio: Number.NaN }), RangeError);
    assert.throws(
      () => createWTinyLFU({ maxEntries: 1, hash: 1 as unknown as () => number }),
      TypeError,
    );
    assert.throws(
      () => createWTinyLFU({ maxEntries: 1, adaptive: "yes" as unknown as boolean }),
      TypeError,
    );
    for (const adaptive of [true, false, "simulate", "climb"] as const) {
      assert.equal(createWTinyLFU({ maxEntries: 1, adaptive }).size, 0);
    }
  });
});

describe("FrequencySketch", () => {
  test("never underestimates before a reset and caps counts at 15", () => {
    const sketch = new FrequencySketch(1000);
    const counts = new Map<number, number>();
    let x = 7;
    for (let i = 0; i < 5000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const k = x % 1000;
      sketch.increment(k);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    for (const [k, n] of counts) assert.ok(sketch.frequency(k) >= Math.min(n, 15), `key ${k}`);
    for (let i = 0; i < 40; i++) sketch.increment(123_456);
    assert.equal(sketch.frequency(123_456), 15);
  });

  test("halves every count after 10 × capacity increments", () => {
    const sketch = new FrequencySketch(16); // sample size 160
    for (let i = 0; i < 12; i++) sketch.increment(1);
    assert.equal(sketch.frequency(1), 12);
    for (let i = 0; i < 147; i++) sketch.increment(1000 + i);
    assert.ok(sketch.frequency(1) >= 12, "no reset before 160 counts");
    sketch.increment(2000);
    // Halved; other keys sharing all four of its counters could add one.
    const f = sketch.frequency(1);
    assert.ok(f === 6 || f === 7, `frequency ${f}`);
  });

  test("a reset deducts the counts that halving truncated, as Caffeine's does", () => {
    const sketch = new FrequencySketch(16); // sample size 160
    for (let i = 0; i < 12; i++) sketch.increment(1);
    for (let i = 0; i < 148; i++) sketch.increment(1000 + i); // the 160th count halves
    assert.ok(sketch.frequency(1) <= 7);
    // Halving took odd counts' last unit (most of the 148 keys seen once lost theirs entirely),
    // so the sample restarts below the plain half (80) and 90 more counts do not halve again.
    for (let i = 0; i < 90; i++) sketch.increment(5000 + i);
    assert.ok(sketch.frequency(1) >= 6, `frequency ${sketch.frequency(1)}`);
  });

  test("the key hasher separates numbers, strings and objects, and is stable", () => {
    const hash = createKeyHasher();
    const a = {};
    assert.equal(hash(a), hash(a));
    assert.notEqual(hash({}), hash(a));
    assert.equal(hash("key"), hash("key"));
    assert.notEqual(hash("key"), hash("kez"));
    assert.equal(hash(2 ** 40 + 1), hash(2 ** 40 + 1));
    assert.notEqual(hash(2 ** 40 + 1), hash(1));
    assert.equal(typeof hash(Symbol("s")), "number");
  });
});
