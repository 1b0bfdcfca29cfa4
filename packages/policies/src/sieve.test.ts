import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createSIEVE } from "./index.ts";

describe("SIEVE", () => {
  test("the hand spares visited entries once, clearing their bit, and evicts the first unvisited", () => {
    const evicted: string[] = [];
    const sieve = createSIEVE<string, number>({
      maxEntries: 3,
      onEvicted: (k) => evicted.push(k),
    });
    sieve.set("a", 1);
    sieve.set("b", 2);
    sieve.set("c", 3);
    sieve.get("a");
    sieve.get("c");
    sieve.set("d", 4); // hand at a (visited: cleared), b unvisited: evicted
    assert.deepEqual(evicted, ["b"]);
    sieve.set("e", 5); // hand moves on from b's place to c (visited: cleared), then d
    assert.deepEqual(evicted, ["b", "d"]);
    sieve.set("f", 6); // the hand wraps to the tail: a was cleared, so a goes
    assert.deepEqual(evicted, ["b", "d", "a"]);
    assert.deepEqual([...sieve.keys()], ["f", "e", "c"]);
  });

  test("a hit does not reorder: new one-hit keys leave before a visited old key", () => {
    const sieve = createSIEVE<number, number>({ maxEntries: 10 });
    sieve.set(0, 0);
    for (let k = 1; k < 1000; k++) {
      sieve.get(0);
      sieve.set(k, k);
    }
    assert.equal(sieve.peek(0), 0);
  });

  test("peek and has do not mark an entry visited", () => {
    const sieve = createSIEVE<string, number>({ maxEntries: 2 });
    sieve.set("a", 1);
    sieve.set("b", 2);
    sieve.peek("a");
    sieve.has("a");
    sieve.set("c", 3);
    assert.equal(sieve.has("a"), false);
  });
});
