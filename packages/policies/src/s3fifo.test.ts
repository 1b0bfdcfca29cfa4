import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createS3FIFO } from "./index.ts";

function access(cache: { get(k: number): unknown; set(k: number, v: number): boolean }, k: number) {
  if (cache.get(k) === undefined) cache.set(k, k);
}

describe("S3-FIFO", () => {
  test("one-hit wonders leave through the small queue; the main queue keeps its keys", () => {
    const cache = createS3FIFO<number, number>({ maxEntries: 20 }); // small 2, main 18
    for (let round = 0; round < 3; round++) for (let k = 0; k < 18; k++) access(cache, k);
    for (let k = 1000; k < 2000; k++) access(cache, k);
    for (let k = 0; k < 18; k++) assert.equal(cache.peek(k), k, `key ${k}`);
  });

  test("a key seen again while its ghost is remembered goes straight to the main queue", () => {
    const cache = createS3FIFO<number, number>({ maxEntries: 10 }); // small 1, main 9, ghost 9
    for (let k = 0; k < 10; k++) access(cache, k); // 0 in small; the rest spill into main
    access(cache, 10); // the first eviction: 0 leaves the small queue for the ghost queue
    assert.equal(cache.has(0), false);
    access(cache, 0); // a ghost hit: 0 goes to main (and 10 leaves the small queue)
    assert.equal(cache.has(10), false);
    for (let k = 20; k < 25; k++) access(cache, k); // small-queue churn
    assert.equal(cache.has(0), true);
    assert.equal(cache.has(23), false);
  });

  test("a key's ghost counts even when the room made for it would push the ghost out", () => {
    const evicted: string[] = [];
    const cache = createS3FIFO<string, number>({
      maxEntries: 10, // small 1, main 9, ghost 9
      onEvicted: (k) => evicted.push(k),
    });
    for (let k = 0; k < 10; k++) cache.set(`k${k}`, k); // k0 in small; the rest spill into main
    for (let g = 0; g < 10; g++) cache.set(`g${g}`, g); // each evicts the last to the ghosts
    assert.equal(cache.has("k0"), false); // ghosts: g0 (the oldest) .. g8
    evicted.length = 0;
    // g9 leaves the small queue for the ghosts, which overflow and would forget g0's ghost; g0's
    // ghost was found first, so g0 goes to main. The next key then takes room from main (its
    // oldest, k1), not from the small queue, where g0 would have been the one to go.
    cache.set("g0", 0);
    cache.set("h", 0);
    assert.deepEqual(evicted, ["g9", "k1"]);
    assert.equal(cache.has("g0"), true);
  });

  test("two hits in the small queue earn a move to the main queue", () => {
    const evicted: number[] = [];
    const cache = createS3FIFO<number, number>({
      maxEntries: 10,
      onEvicted: (k) => evicted.push(k),
    });
    for (let k = 0; k < 11; k++) access(cache, k); // 10 in small, 0 evicted
    access(cache, 10);
    access(cache, 10);
    access(cache, 11); // 10 moves to main, whose oldest unvisited entry, 1, makes room
    assert.deepEqual(evicted, [0, 1]);
    for (let k = 20; k < 25; k++) access(cache, k);
    assert.equal(cache.has(10), true);
  });
});
