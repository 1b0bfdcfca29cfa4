import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rng } from "@geecache/testkit";
import { createARC } from "./index.ts";

/** The paper's ARC(c), Fig. 4, written plainly with arrays (index 0 is the LRU end). */
class ReferenceARC {
  readonly c: number;
  p = 0;
  t1: number[] = [];
  t2: number[] = [];
  b1: number[] = [];
  b2: number[] = [];
  constructor(c: number) {
    this.c = c;
  }
  /** request returns whether x was a hit. */
  request(x: number): boolean {
    const { c } = this;
    if (this.#take(this.t1, x) || this.#take(this.t2, x)) {
      this.t2.push(x); // Case I
      return true;
    }
    if (this.b1.includes(x)) {
      const d = this.b1.length >= this.b2.length ? 1 : this.b2.length / this.b1.length;
      this.p = Math.min(this.p + d, c); // Case II
      this.#replace(x);
      this.#take(this.b1, x);
      this.t2.push(x);
      return false;
    }
    if (this.b2.includes(x)) {
      const d = this.b2.length >= this.b1.length ? 1 : this.b1.length / this.b2.length;
      this.p = Math.max(this.p - d, 0); // Case III
      this.#replace(x);
      this.#take(this.b2, x);
      this.t2.push(x);
      return false;
    }
    const l1 = this.t1.length + this.b1.length; // Case IV
    if (l1 === c) {
      if (this.t1.length < c) {
        this.b1.shift();
        this.#replace(x);
      } else {
        this.t1.shift();
      }
    } else {
      const total = l1 + this.t2.length + this.b2.length;
      if (total >= c) {
        if (total === 2 * c) this.b2.shift();
        this.#replace(x);
      }
    }
    this.t1.push(x);
    return false;
  }
  #replace(x: number): void {
    const t1 = this.t1.length;
    if (t1 >= 1 && ((this.b2.includes(x) && t1 === this.p) || t1 > this.p)) {
      this.b1.push(this.t1.shift()!);
    } else {
      this.b2.push(this.t2.shift()!);
    }
  }
  #take(list: number[], x: number): boolean {
    const i = list.indexOf(x);
    if (i === -1) return false;
    list.splice(i, 1);
    return true;
  }
}

describe("ARC", () => {
  test("with unit sizes it takes exactly the paper's steps (hits, p and contents)", () => {
    for (const [seed, c] of [
      [1, 1],
      [2, 4],
      [3, 16],
      [4, 50],
    ] as const) {
      const random = rng(seed);
      const ref = new ReferenceARC(c);
      const arc = createARC<number, number>({ maxEntries: c });
      let scan = 1000;
      let adapted = 0;
      for (let i = 0; i < 20_000; i++) {
        // Phases of a small hot set, a wide uniform set and scans, so p moves both ways.
        const phase = Math.floor(i / 2000) % 3;
        const x =
          phase === 0
            ? Math.floor(random() * c * 1.5)
            : phase === 1
              ? Math.floor(random() * c * 4)
              : random() < 0.5
                ? scan++
                : Math.floor(random() * c);
        const hit = ref.request(x);
        const got = arc.get(x) !== undefined;
        if (!got) arc.set(x, x);
        assert.equal(got, hit, `request ${i} (${x}), c=${c}`);
        assert.equal(arc.p, ref.p, `p after request ${i}, c=${c}`);
        if (ref.p !== 0) adapted++;
      }
      assert.deepEqual([...arc.keys()].sort(), [...ref.t1, ...ref.t2].sort());
      if (c > 1) assert.ok(adapted > 0, "the sequence should move p");
    }
  });

  test("hits in B1 grow the recency target p, hits in B2 shrink it", () => {
    const arc = createARC<string, number>({ maxEntries: 4 });
    const get = (k: string): void => {
      if (arc.get(k) === undefined) arc.set(k, 0);
    };
    // a, b reach T2; c, d, e, f pass through T1, pushing c and d into B1.
    for (const k of ["a", "b", "a", "b", "c", "d", "e", "f"]) get(k);
    assert.equal(arc.p, 0);
    get("c"); // a ghost hit in B1: recency would have paid
    assert.equal(arc.p, 1);
    assert.ok(arc.has("c"));
    // Now evict from T2 into B2 and hit the ghost there.
    for (const k of ["g", "h", "c", "g", "h"]) get(k);
    const before = arc.p;
    const ghostOfT2 = ["a", "b"].find((k) => !arc.has(k));
    assert.ok(ghostOfT2 !== undefined, "one of a, b should have left T2");
    get(ghostOfT2);
    assert.ok(arc.p < before, `p ${arc.p} should fall below ${before}`);
  });

  test("a scan of new keys does not flush the frequently used keys", () => {
    const arc = createARC<number, number>({ maxEntries: 100 });
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 50; k++) if (arc.get(k) === undefined) arc.set(k, k);
    }
    for (let k = 1000; k < 11_000; k++) if (arc.get(k) === undefined) arc.set(k, k);
    for (let k = 0; k < 50; k++) assert.equal(arc.get(k), k, `hot key ${k}`);
  });

  test("on a byte budget, p and the lists are weights, and the budget holds", () => {
    const evicted: string[] = [];
    const arc = createARC<string, number>({
      maxBytes: 100,
      sizeOf: (v) => v,
      onEvicted: (k) => evicted.push(k),
    });
    arc.set("big", 60);
    arc.get("big"); // to T2
    arc.set("x", 30);
    arc.set("y", 30); // T1 must give way: x goes to B1
    assert.deepEqual(evicted, ["x"]);
    assert.ok(arc.bytes <= 100);
    arc.set("x", 30); // ghost hit in B1: p grows by the entry's weight
    assert.equal(arc.p, 30);
    assert.ok(arc.bytes <= 100);
  });
});
