import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createFIFO } from "./index.ts";

describe("FIFO", () => {
  test("evicts in insertion order and ignores hits and rewrites", () => {
    const evicted: string[] = [];
    const fifo = createFIFO<string, number>({
      maxEntries: 3,
      onEvicted: (k, _v, r) => evicted.push(`${k}:${r}`),
    });
    fifo.set("a", 1);
    fifo.set("b", 2);
    fifo.set("c", 3);
    fifo.get("a");
    fifo.get("a");
    fifo.set("b", 20); // a rewrite does not move b either
    fifo.set("d", 4);
    assert.deepEqual(evicted, ["b:replaced", "a:capacity"]);
    fifo.set("e", 5);
    assert.deepEqual(evicted.at(-1), "b:capacity");
    assert.deepEqual([...fifo.keys()], ["e", "d", "c"]);
  });

  test("a larger entry evicts as many of the oldest as it needs", () => {
    const fifo = createFIFO<string, number>({ maxBytes: 10, sizeOf: (v) => v });
    fifo.set("a", 3);
    fifo.set("b", 3);
    fifo.set("c", 3);
    fifo.set("d", 7);
    assert.deepEqual([...fifo.keys()], ["d", "c"]);
    assert.equal(fifo.bytes, 10);
  });
});
