import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createLFU } from "./index.ts";

describe("LFU", () => {
  test("keeps the frequent key and evicts the least frequent, oldest first on ties", () => {
    const evicted: string[] = [];
    const lfu = createLFU<string, number>({ maxEntries: 3, onEvicted: (k) => evicted.push(k) });
    lfu.set("hot", 0);
    for (let i = 0; i < 5; i++) lfu.get("hot");
    lfu.set("x", 1);
    lfu.set("y", 2);
    lfu.set("z", 3); // x and y both seen once: x is older
    assert.deepEqual(evicted, ["x"]);
    lfu.get("y");
    lfu.set("w", 4); // z is now the only one seen once
    assert.deepEqual(evicted, ["x", "z"]);
    for (let k = 0; k < 100; k++) lfu.set(`scan${k}`, k);
    assert.equal(lfu.get("hot"), 0);
    assert.equal(lfu.get("y"), 2);
  });

  test("peek and has do not count as uses", () => {
    const lfu = createLFU<string, number>({ maxEntries: 2 });
    lfu.set("a", 1);
    lfu.set("b", 2);
    lfu.get("b");
    for (let i = 0; i < 10; i++) {
      lfu.peek("a");
      lfu.has("a");
    }
    lfu.set("c", 3);
    assert.equal(lfu.has("a"), false);
    assert.equal(lfu.has("b"), true);
  });

  test("ageing halves old counts, so past popularity does not pin an entry forever", () => {
    const lfu = createLFU<string, number>({ maxEntries: 4 });
    lfu.set("old", 0);
    for (let i = 0; i < 1000; i++) lfu.get("old");
    // A new working set, each key read 3 times: without ageing "old" (1001 uses) would never go.
    let survivedFirst = false;
    for (let k = 0; k < 5000; k++) {
      const key = `k${k}`;
      lfu.set(key, k);
      lfu.get(key);
      lfu.get(key);
      lfu.get(key);
      if (k === 10) survivedFirst = lfu.has("old");
      if (!lfu.has("old")) break;
    }
    assert.equal(survivedFirst, true, "a popular key outlives early newcomers");
    assert.equal(lfu.has("old"), false, "ageing lets it go eventually");
  });

  test("after ageing, recency still breaks ties within a merged count", () => {
    const evicted: string[] = [];
    const lfu = createLFU<string, number>({ maxEntries: 4, onEvicted: (k) => evicted.push(k) });
    lfu.set("b", 2);
    lfu.get("b"); // b: 2 uses
    lfu.set("a", 1);
    lfu.get("a");
    lfu.get("a"); // a: 3 uses, more recent than b
    lfu.set("c", 3); // c: 1 use, the most recent
    // 200 more accesses pass the ageing period (160 for a small cache): every count becomes 1.
    for (let i = 0; i < 200; i++) {
      lfu.set("t", i);
      lfu.delete("t");
    }
    evicted.length = 0;
    lfu.set("d", 4);
    lfu.set("e", 5); // all tie at 1: the least recently used, b, goes (without ageing: c)
    assert.deepEqual(evicted, ["b"]);
  });
});
