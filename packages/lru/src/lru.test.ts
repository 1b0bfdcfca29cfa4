import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rng } from "@geecache/testkit";
import type { CacheOptions, EvictionReason } from "./cache.ts";
import { createLRU, LRUCache, lruFactory } from "./lru.ts";

type Event = [key: string, value: number, reason: EvictionReason];

/** A cache over string keys and number values that records onEvicted calls and runs on a fake clock. */
function setup(options: Omit<CacheOptions<string, number>, "onEvicted" | "now">) {
  const events: Event[] = [];
  const clock = { t: 1000 };
  const cache = createLRU<string, number>({
    ...options,
    now: () => clock.t,
    onEvicted: (k, v, r) => events.push([k, v, r]),
  });
  return { cache, events, clock };
}

describe("recency", () => {
  const cases: { name: string; ops: string[]; want: string[] }[] = [
    { name: "insertion order", ops: ["set a", "set b", "set c"], want: ["c", "b", "a"] },
    {
      name: "get moves to front",
      ops: ["set a", "set b", "set c", "get a"],
      want: ["a", "c", "b"],
    },
    { name: "get of tail", ops: ["set a", "set b", "get a", "get b"], want: ["b", "a"] },
    { name: "peek keeps order", ops: ["set a", "set b", "peek a"], want: ["b", "a"] },
    { name: "has keeps order", ops: ["set a", "set b", "has a"], want: ["b", "a"] },
    { name: "replace moves to front", ops: ["set a", "set b", "set a"], want: ["a", "b"] },
    { name: "delete middle", ops: ["set a", "set b", "set c", "delete b"], want: ["c", "a"] },
    { name: "delete head", ops: ["set a", "set b", "set c", "delete c"], want: ["b", "a"] },
    { name: "delete tail", ops: ["set a", "set b", "set c", "delete a"], want: ["c", "b"] },
    { name: "delete only", ops: ["set a", "delete a", "set b"], want: ["b"] },
  ];
  for (const { name, ops, want } of cases) {
    test(name, () => {
      const { cache } = setup({ maxEntries: 10 });
      let n = 0;
      for (const op of ops) {
        const [verb, key] = op.split(" ") as [string, string];
        if (verb === "set") cache.set(key, n++);
        else if (verb === "get") cache.get(key);
        else if (verb === "peek") cache.peek(key);
        else if (verb === "has") cache.has(key);
        else cache.delete(key);
      }
      assert.deepEqual([...cache.keys()], want);
      assert.equal(cache.size, want.length);
    });
  }
});

describe("eviction", () => {
  test("by count: least recently used first", () => {
    const { cache, events } = setup({ maxEntries: 3 });
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("c", 3);
    cache.get("a");
    cache.set("d", 4);
    assert.deepEqual(events, [["b", 2, "capacity"]]);
    cache.set("e", 5);
    assert.deepEqual(events, [
      ["b", 2, "capacity"],
      ["c", 3, "capacity"],
    ]);
    assert.deepEqual(
      [...cache.entries()],
      [
        ["e", 5],
        ["d", 4],
        ["a", 1],
      ],
    );
    assert.equal(cache.size, 3);
    assert.equal(cache.bytes, 3);
  });

  const byBytes: { name: string; sets: [string, number][]; want: string[]; evicted: string[] }[] = [
    {
      name: "fits exactly",
      sets: [
        ["a", 4],
        ["b", 6],
      ],
      want: ["b", "a"],
      evicted: [],
    },
    {
      name: "one over",
      sets: [
        ["a", 4],
        ["b", 6],
        ["c", 1],
      ],
      want: ["c", "b"],
      evicted: ["a"],
    },
    {
      name: "big entry evicts several",
      sets: [
        ["a", 3],
        ["b", 3],
        ["c", 3],
        ["d", 9],
      ],
      want: ["d"],
      evicted: ["a", "b", "c"],
    },
    {
      name: "zero-size entries are free",
      sets: [
        ["a", 10],
        ["z", 0],
      ],
      want: ["z", "a"],
      evicted: [],
    },
  ];
  for (const { name, sets, want, evicted } of byBytes) {
    test(`by bytes: ${name}`, () => {
      const { cache, events } = setup({ maxBytes: 10 });
      for (const [k, size] of sets) assert.equal(cache.set(k, size, { size }), true);
      assert.deepEqual([...cache.keys()], want);
      assert.deepEqual(
        events.map(([k, , r]) => [k, r]),
        evicted.map((k) => [k, "capacity"]),
      );
      const total = sets.filter(([k]) => want.includes(k)).reduce((s, [, n]) => s + n, 0);
      assert.equal(cache.bytes, total);
    });
  }

  test("sizeOf and both budgets: whichever binds first", () => {
    const { cache, events } = setup({ maxBytes: 100, maxEntries: 2, sizeOf: (v) => v });
    cache.set("a", 10);
    cache.set("b", 10);
    cache.set("c", 10);
    assert.deepEqual(events, [["a", 10, "capacity"]]);
    cache.set("d", 85);
    // The entry budget evicts b; c (10) + d (85) then fit the byte budget.
    assert.deepEqual(events.slice(1), [["b", 10, "capacity"]]);
    assert.equal(cache.bytes, 95);
    cache.set("e", 90);
    assert.deepEqual(events.slice(2), [
      ["c", 10, "capacity"],
      ["d", 85, "capacity"],
    ]);
    assert.equal(cache.bytes, 90);
  });

  test("a replaced entry that grows evicts others but never itself", () => {
    const { cache, events } = setup({ maxBytes: 10, sizeOf: (v) => v });
    cache.set("a", 3);
    cache.set("b", 3);
    cache.set("c", 3);
    cache.set("a", 8);
    assert.deepEqual(events, [
      ["a", 3, "replaced"],
      ["b", 3, "capacity"],
      ["c", 3, "capacity"],
    ]);
    assert.deepEqual([...cache.entries()], [["a", 8]]);
    assert.equal(cache.bytes, 8);
  });
});

describe("onEvicted reasons and accounting", () => {
  test("replaced, deleted, clear", () => {
    const { cache, events } = setup({ maxBytes: 100, sizeOf: (v) => v });
    cache.set("a", 1);
    cache.set("a", 5);
    assert.equal(cache.bytes, 5);
    cache.set("a", 5); // the same value is still cached: not reported
    assert.equal(cache.delete("a"), true);
    assert.equal(cache.delete("a"), false);
    cache.set("x", 2);
    cache.set("y", 3);
    cache.get("x");
    cache.clear();
    assert.deepEqual(events, [
      ["a", 1, "replaced"],
      ["a", 5, "deleted"],
      ["y", 3, "deleted"],
      ["x", 2, "deleted"],
    ]);
    assert.equal(cache.size, 0);
    assert.equal(cache.bytes, 0);
    assert.deepEqual([...cache.entries()], []);
  });

  test("callbacks run on a consistent cache and may re-enter it", () => {
    const seen: [string, number, boolean][] = [];
    const cache: LRUCache<string, number> = createLRU<string, number>({
      maxEntries: 2,
      onEvicted: (k, _v, reason) => {
        seen.push([reason, cache.size, cache.has(k)]);
        if (reason === "capacity" && !k.endsWith("-again")) cache.set(`${k}-again`, 0);
      },
    });
    cache.set("a", 1);
    cache.set("b", 2);
    // Making room for c evicts a; its callback adds a-again, so set keeps making room: b goes
    // (adding b-again), then a-again. Every callback sees one entry and not the evicted key.
    cache.set("c", 3);
    assert.deepEqual(seen, [
      ["capacity", 1, false],
      ["capacity", 1, false],
      ["capacity", 1, false],
    ]);
    assert.deepEqual([...cache.keys()], ["c", "b-again"]);
    assert.equal(cache.size, 2);
  });

  test("per-set size overrides sizeOf and starts size tracking lazily", () => {
    const cache = createLRU<string, string>({ maxBytes: 10 });
    cache.set("a", "x");
    cache.set("b", "y");
    assert.equal(cache.bytes, 2);
    cache.set("c", "z", { size: 7 });
    assert.equal(cache.bytes, 9);
    cache.set("d", "w", { size: 2 });
    assert.deepEqual([...cache.keys()], ["d", "c", "b"]);
    assert.equal(cache.bytes, 10);
  });
});

describe("oversize entries", () => {
  test("are not stored and remove the older value", () => {
    const { cache, events } = setup({ maxBytes: 10, sizeOf: (v) => v });
    cache.set("a", 4);
    cache.set("b", 4);
    assert.equal(cache.set("a", 11), false);
    assert.deepEqual(events, [["a", 4, "deleted"]]);
    assert.equal(cache.get("a"), undefined);
    assert.deepEqual([...cache.keys()], ["b"]);
    assert.equal(cache.bytes, 4);
    assert.equal(cache.set("c", 11), false);
    assert.deepEqual([...cache.keys()], ["b"]);
    assert.equal(events.length, 1);
  });

  test("maxEntries 0 stores nothing", () => {
    const cache = createLRU<string, number>({ maxEntries: 0 });
    assert.equal(cache.set("a", 1), false);
    assert.equal(cache.size, 0);
  });
});

describe("TTL", () => {
  test("an expired entry is never returned", () => {
    const { cache, events, clock } = setup({ maxEntries: 10 });
    cache.set("a", 1, { ttlMs: 100 });
    cache.set("b", 2, { ttlMs: 100 });
    cache.set("c", 3, { ttlMs: 100 });
    cache.set("d", 4, { ttlMs: 100 });
    cache.set("keep", 5);
    clock.t += 99;
    assert.equal(cache.get("a"), 1);
    clock.t += 1;
    assert.deepEqual([...cache.keys()], ["keep"]);
    assert.equal(cache.get("a"), undefined);
    assert.equal(cache.peek("b"), undefined);
    assert.equal(cache.has("c"), false);
    assert.equal(cache.delete("d"), false);
    assert.deepEqual(events, [
      ["a", 1, "expired"],
      ["b", 2, "expired"],
      ["c", 3, "expired"],
      ["d", 4, "expired"],
    ]);
    assert.equal(cache.get("keep"), 5);
    assert.equal(cache.size, 1);
  });

  test("default ttlMs, per-set override, set refreshes the TTL, get does not", () => {
    const { cache, clock } = setup({ maxEntries: 10, ttlMs: 100 });
    cache.set("a", 1);
    cache.set("b", 2, { ttlMs: 500 });
    clock.t += 50;
    cache.set("a", 10);
    cache.get("b");
    clock.t += 60;
    assert.equal(cache.get("a"), 10);
    clock.t += 50;
    assert.equal(cache.get("a"), undefined);
    assert.equal(cache.get("b"), 2);
    clock.t += 340;
    assert.equal(cache.get("b"), undefined);
  });

  test("setting over an expired value reports it expired, not replaced", () => {
    const { cache, events, clock } = setup({ maxEntries: 10 });
    cache.set("a", 1, { ttlMs: 10 });
    clock.t += 10;
    cache.set("a", 2);
    assert.deepEqual(events, [["a", 1, "expired"]]);
    assert.equal(cache.get("a"), 2);
  });

  test("an expired tail is reclaimed as expired, not evicted for capacity", () => {
    const { cache, events, clock } = setup({ maxEntries: 4 });
    cache.set("t", 1, { ttlMs: 10 });
    for (const k of ["a", "b", "c"]) cache.set(k, 0);
    clock.t += 20;
    cache.set("e", 2);
    assert.deepEqual(events, [["t", 1, "expired"]]);
    assert.deepEqual([...cache.keys()], ["e", "c", "b", "a"]);
  });

  test("purgeExpired reclaims all expired entries at once", () => {
    const { cache, events, clock } = setup({ maxEntries: 100 });
    for (let i = 0; i < 50; i++) cache.set(`k${i}`, i, { ttlMs: i % 2 === 0 ? 10 : 1000 });
    clock.t += 10;
    assert.equal(cache.purgeExpired(), 25);
    assert.equal(cache.size, 25);
    assert.equal(events.length, 25);
    assert.ok(events.every(([, v, r]) => v % 2 === 0 && r === "expired"));
    assert.equal(cache.purgeExpired(), 0);
  });

  test("no TTL state until a TTL is used", () => {
    const cache = createLRU<string, number>({
      maxEntries: 10,
      now: () => assert.fail("clock read"),
    });
    cache.set("a", 1);
    cache.get("a");
    cache.peek("a");
    cache.has("a");
    [...cache.entries()];
    assert.equal(cache.purgeExpired(), 0);
    cache.delete("a");
  });

  test("expired entries are reclaimed with bounded work even when never touched", () => {
    // Expired entries sit in the middle of the list while the workload keeps replacing the
    // same few live keys: the tail never expires, so only the sweep cursor can find them.
    const { cache, events, clock } = setup({ maxEntries: 1000 });
    cache.set("old", 0);
    for (let i = 0; i < 500; i++) cache.set(`t${i}`, i, { ttlMs: 10 });
    for (let i = 0; i < 100; i++) cache.set(`live${i}`, i);
    clock.t += 10;
    const slots = 601;
    // Each set examines at most 2 tail entries and 2 cursor slots: all 500 go within slots/2 sets.
    let sets = 0;
    while (cache.size > 101 && sets <= slots) cache.set(`live${sets++ % 100}`, sets);
    assert.equal(cache.size, 101);
    assert.ok(sets <= Math.ceil(slots / 2), `took ${sets} sets`);
    assert.equal(events.filter(([, , r]) => r === "expired").length, 500);
    assert.equal(cache.get("old"), 0);
  });

  test("no single set does unbounded work", () => {
    const { cache, events, clock } = setup({ maxEntries: 10_000 });
    for (let i = 0; i < 5000; i++) cache.set(`t${i}`, i, { ttlMs: 10 });
    clock.t += 10;
    cache.set("x", 1);
    assert.ok(events.length <= 4, `${events.length} reclaimed by one set`);
  });
});

describe("changing the cache while iterating", () => {
  /** A cache holding a..e with values 1..5, so iteration order is e, d, c, b, a. */
  function abcde() {
    const s = setup({ maxEntries: 10 });
    for (const [i, k] of ["a", "b", "c", "d", "e"].entries()) s.cache.set(k, i + 1);
    return s;
  }

  /** Iterates cache.entries(), running body after each yield; returns what was yielded. */
  function walk(cache: LRUCache<string, number>, body: (key: string) => void): [string, number][] {
    const out: [string, number][] = [];
    for (const [k, v] of cache.entries()) {
      out.push([k, v]);
      assert.ok(out.length <= 20, "runaway iteration");
      body(k);
    }
    return out;
  }

  test("deleting the next entry skips it cleanly", () => {
    for (const [at, victim, want] of [
      ["e", "d", ["e", "c", "b", "a"]],
      ["d", "c", ["e", "d", "b", "a"]],
      ["b", "a", ["e", "d", "c", "b"]],
    ] as const) {
      const { cache } = abcde();
      const got = walk(cache, (k) => {
        if (k === at) cache.delete(victim);
      });
      assert.deepEqual(
        got.map(([k]) => k),
        want,
        `delete ${victim} at ${at}`,
      );
      assert.ok(got.every(([k, v]) => v === "abcde".indexOf(k) + 1));
    }
  });

  test("deleting the current entry visits every entry once", () => {
    const { cache } = abcde();
    assert.deepEqual(
      walk(cache, (k) => cache.delete(k)).map(([k]) => k),
      ["e", "d", "c", "b", "a"],
    );
    assert.equal(cache.size, 0);
    const again = abcde().cache;
    const got = walk(again, (k) => {
      if (k === "d" || k === "b") again.delete(k);
    });
    assert.deepEqual(got, [
      ["e", 5],
      ["d", 4],
      ["c", 3],
      ["b", 2],
      ["a", 1],
    ]);
    assert.deepEqual([...again.keys()], ["e", "c", "a"]);
  });

  test("deleting the current and the next entry", () => {
    for (const [at, victim, want] of [
      ["e", "d", ["e", "c", "b", "a"]],
      ["d", "c", ["e", "d", "b", "a"]],
    ] as const) {
      const { cache } = abcde();
      const got = walk(cache, (k) => {
        if (k !== at) return;
        cache.delete(k);
        cache.delete(victim);
      });
      assert.deepEqual(
        got.map(([k]) => k),
        want,
        `delete ${at} and ${victim} at ${at}`,
      );
    }
  });

  test("delete and set of a new key (reusing the freed slot) yields neither twice nor a stranger", () => {
    for (const [at, victim, want] of [
      ["e", "d", ["e", "c", "b", "a"]],
      ["d", "c", ["e", "d", "b", "a"]],
      ["d", "d", ["e", "d", "c", "b", "a"]],
      ["c", "a", ["e", "d", "c", "b"]],
    ] as const) {
      const { cache } = abcde();
      const got = walk(cache, (k) => {
        if (k !== at) return;
        cache.delete(victim);
        cache.set("NEW", 0);
      });
      assert.deepEqual(
        got.map(([k]) => k),
        want,
        `delete ${victim}, set NEW at ${at}`,
      );
      assert.equal(cache.get("NEW"), 0);
    }
  });

  test("clear() ends the iteration, even if the loop then adds entries", () => {
    for (const at of ["e", "d", "a"]) {
      const { cache } = abcde();
      const got = walk(cache, (k) => {
        if (k !== at) return;
        cache.clear();
        cache.set("x", 9);
        cache.set("y", 9);
      });
      assert.deepEqual(
        got.map(([k]) => k),
        "edcba".slice(0, "edcba".indexOf(at) + 1).split(""),
      );
      assert.deepEqual([...cache.keys()], ["y", "x"]);
    }
  });

  test("get and set of the current entry visit every entry once", () => {
    const { cache } = abcde();
    const got = walk(cache, (k) => {
      cache.get(k);
      cache.set(k, cache.peek(k)! * 10);
    });
    assert.deepEqual(
      got.map(([k]) => k),
      ["e", "d", "c", "b", "a"],
    );
    assert.deepEqual(
      [...cache.entries()],
      [
        ["a", 10],
        ["b", 20],
        ["c", 30],
        ["d", 40],
        ["e", 50],
      ],
    );
  });

  test("expired entries are not yielded while the loop changes the cache", () => {
    // With a set in the body its sweep reclaims some expired entries; without, they stay.
    for (const setToo of [false, true]) {
      const { cache, clock } = setup({ maxEntries: 10 });
      for (const k of ["a", "b", "c", "d", "e", "f"]) {
        cache.set(k, 0, { ttlMs: "bd".includes(k) ? 10 : 1000 });
      }
      clock.t += 10;
      const got = walk(cache, (k) => {
        cache.delete(k);
        if (setToo) cache.set(`${k}2`, 0);
      });
      assert.deepEqual(
        got.map(([k]) => k),
        ["f", "e", "c", "a"],
      );
    }
  });

  test("unfinished and nested iterators", () => {
    const { cache } = abcde();
    cache.keys().next(); // left after one step
    const two = cache.keys();
    two.next(); // e
    two.next(); // d
    cache.delete("c");
    cache.set("x", 0);
    const rest: string[] = [];
    for (const k of two) assert.ok(rest.push(k) <= 20, "runaway iteration");
    assert.deepEqual(rest, ["b", "a"]);
    const got = walk(cache, (k) => {
      // A nested loop that deletes as it goes, and another iterator left after two steps.
      let steps = 0;
      for (const inner of cache.keys()) {
        assert.ok(++steps <= 20, "runaway inner iteration");
        if (inner === "a") cache.delete(inner);
      }
      const left = cache.keys();
      left.next();
      left.next();
      if (k === "e") cache.delete("b");
    });
    assert.deepEqual(
      got.map(([k]) => k),
      ["x", "e", "d"],
    );
  });

  test("randomized bodies: no absent, expired or repeated entry, no untouched entry missed", () => {
    for (let seed = 1; seed <= 600; seed++) {
      const rand = rng(seed);
      const pick = (n: number) => Math.floor(rand() * n);
      const maxEntries = 2 + pick(16);
      const ttl = seed % 2 === 0;
      const clock = { t: 1000 };
      // The model: live key -> [value, id, expiry], where id names one stay in the cache.
      const live = new Map<string, [number, number, number]>();
      let ids = 0;
      const cache = createLRU<string, number>({
        maxEntries,
        now: () => clock.t,
        onEvicted: (k, _v, reason) => {
          if (reason !== "replaced") live.delete(k);
        },
      });
      const keys = Array.from({ length: maxEntries + 6 }, (_, i) => `k${i}`);
      const set = (k: string, v: number) => {
        const ttlMs = ttl && pick(3) === 0 ? 1 + pick(10) : undefined;
        const old = live.get(k);
        const id = old !== undefined && old[2] > clock.t ? old[1] : ++ids;
        cache.set(k, v, { ttlMs });
        live.set(k, [v, id, ttlMs === undefined ? Infinity : clock.t + ttlMs]);
      };
      for (let i = 0; i < maxEntries; i++) set(keys[pick(keys.length)]!, pick(100));
      clock.t += ttl ? pick(6) : 0;
      const began = clock.t;
      const start = [...cache.keys()];
      const touched = new Set<string>();
      const seen = new Set<number>();
      const yielded: string[] = [];
      let cleared = false;
      const where = () => `seed ${seed}, yielded ${yielded.join(",")}`;
      for (const [k, v] of cache.entries()) {
        assert.ok(!cleared, `${where()}: yielded ${k} after clear`);
        const entry = live.get(k);
        assert.ok(entry !== undefined, `${where()}: yielded absent ${k}`);
        assert.ok(entry[2] > began, `${where()}: yielded expired ${k}`);
        assert.equal(v, entry[0], `${where()}: value of ${k}`);
        assert.ok(!seen.has(entry[1]), `${where()}: ${k} yielded twice`);
        seen.add(entry[1]);
        yielded.push(k);
        assert.ok(yielded.length <= 100, `${where()}: runaway`);
        for (let n = pick(5); n > 0; n--) {
          const op = pick(100);
          const other = rand() < 0.4 ? k : keys[pick(keys.length)]!;
          if (op < 25) {
            touched.add(other);
            cache.delete(other);
          } else if (op < 45) {
            touched.add(other);
            cache.get(other);
          } else if (op < 55) {
            // Only reclaims (moves nothing), which the model sees through onEvicted.
            if (pick(2) === 0) cache.peek(other);
            else cache.has(other);
          } else if (op < 78) {
            touched.add(other);
            set(other, pick(100));
          } else if (op < 88) {
            // Left unfinished after a few steps.
            const it = cache.keys();
            for (let s = pick(4); s > 0; s--) it.next();
          } else if (op < 93) {
            let steps = 0;
            for (const inner of cache.keys()) {
              assert.ok(++steps <= 100, `${where()}: runaway inner loop`);
              if (pick(3) === 0) {
                touched.add(inner);
                cache.delete(inner);
              }
            }
          } else if (op < 99) {
            clock.t += pick(3);
            cache.purgeExpired();
          } else {
            cleared = true;
            cache.clear();
          }
        }
      }
      if (cleared) continue;
      // Keys evicted for room count as deleted: the model dropped them.
      const untouched = start.filter((k) => !touched.has(k) && live.has(k));
      assert.deepEqual(
        yielded.filter((k) => untouched.includes(k)),
        untouched,
        `${where()}: untouched entries missed or out of order`,
      );
    }
  });
});

describe("bad input", () => {
  const bad: { name: string; options: unknown; error: typeof TypeError | typeof RangeError }[] = [
    { name: "no options", options: undefined, error: TypeError },
    { name: "no budget", options: {}, error: TypeError },
    { name: "fractional maxEntries", options: { maxEntries: 1.5 }, error: RangeError },
    { name: "negative maxEntries", options: { maxEntries: -1 }, error: RangeError },
    { name: "infinite maxEntries", options: { maxEntries: Infinity }, error: RangeError },
    { name: "NaN maxBytes", options: { maxBytes: Number.NaN }, error: RangeError },
    { name: "negative maxBytes", options: { maxBytes: -1 }, error: RangeError },
    { name: "infinite maxBytes", options: { maxBytes: Infinity }, error: RangeError },
    { name: "zero ttlMs", options: { maxEntries: 1, ttlMs: 0 }, error: RangeError },
    { name: "infinite ttlMs", options: { maxEntries: 1, ttlMs: Infinity }, error: RangeError },
    { name: "string ttlMs", options: { maxEntries: 1, ttlMs: "1" }, error: TypeError },
    { name: "string maxEntries", options: { maxEntries: "5" }, error: TypeError },
    { name: "string maxBytes", options: { maxBytes: "10" }, error: TypeError },
    { name: "sizeOf not a function", options: { maxBytes: 1, sizeOf: 3 }, error: TypeError },
    { name: "onEvicted not a function", options: { maxBytes: 1, onEvicted: {} }, error: TypeError },
    { name: "now not a function", options: { maxBytes: 1, now: 5 }, error: TypeError },
  ];
  for (const { name, options, error } of bad) {
    test(`constructor: ${name}`, () => {
      assert.throws(() => createLRU(options as CacheOptions<string, number>), error);
    });
  }

  const badSets: { name: string; size?: unknown; ttlMs?: unknown; error: typeof Error }[] = [
    { name: "negative size", size: -1, error: RangeError },
    { name: "NaN size", size: Number.NaN, error: RangeError },
    { name: "infinite size", size: Infinity, error: RangeError },
    { name: "string size", size: "3", error: TypeError },
    { name: "zero ttlMs", ttlMs: 0, error: RangeError },
    { name: "negative ttlMs", ttlMs: -5, error: RangeError },
    { name: "NaN ttlMs", ttlMs: Number.NaN, error: RangeError },
  ];
  for (const { name, size, ttlMs, error } of badSets) {
    test(`set: ${name} leaves the cache unchanged`, () => {
      const { cache } = setup({ maxBytes: 100 });
      cache.set("a", 1);
      assert.throws(() => cache.set("a", 2, { size, ttlMs } as { size: number }), error);
      assert.deepEqual([...cache.entries()], [["a", 1]]);
    });
  }

  test("sizeOf returning a bad size", () => {
    const cache = createLRU<string, number>({ maxBytes: 10, sizeOf: (v) => v });
    assert.throws(() => cache.set("a", -1), /sizeOf must be a finite number >= 0, got -1/);
    assert.throws(() => cache.set("a", Number.NaN), RangeError);
    assert.equal(cache.size, 0);
  });
});

test("lruFactory creates an LRUCache", () => {
  const cache = lruFactory<string, number>({ maxEntries: 2 });
  assert.ok(cache instanceof LRUCache);
  cache.set("a", 1);
  assert.deepEqual([...(cache as LRUCache<string, number>)], [["a", 1]]);
});

test("grows past its initial slots when only maxBytes is given, and clear shrinks it", () => {
  const cache = createLRU<number, number>({ maxBytes: 1e6 });
  for (let i = 0; i < 5000; i++) cache.set(i, i);
  assert.equal(cache.size, 5000);
  for (let i = 0; i < 5000; i += 2) cache.delete(i);
  for (let i = 0; i < 5000; i += 2) cache.set(i + 10_000, i);
  assert.equal(cache.size, 5000);
  assert.equal(cache.get(1), 1);
  assert.equal(cache.get(4), undefined);
  cache.clear();
  cache.set(1, 1);
  assert.deepEqual([...cache.entries()], [[1, 1]]);
});

/**
 * Model is the obvious LRU: a Map whose insertion order is the recency order (oldest first).
 * It knows nothing of the sweep; the differential test tells it which entries the sweep took
 * and checks that they had indeed expired.
 */
class Model {
  m = new Map<string, { v: number; size: number; exp: number }>();
  bytes = 0;
  events: Event[] = [];
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly now: () => number;
  constructor(maxEntries: number, maxBytes: number, now: () => number) {
    this.maxEntries = maxEntries;
    this.maxBytes = maxBytes;
    this.now = now;
  }
  stale(k: string): boolean {
    const e = this.m.get(k);
    return e !== undefined && e.exp <= this.now();
  }
  remove(k: string, reason: EvictionReason) {
    const e = this.m.get(k)!;
    this.m.delete(k);
    this.bytes -= e.size;
    this.events.push([k, e.v, reason]);
  }
  /** Removes k if expired; returns whether k is live. */
  live(k: string): boolean {
    if (!this.m.has(k)) return false;
    if (this.stale(k)) {
      this.remove(k, "expired");
      return false;
    }
    return true;
  }
  get(k: string, touch: boolean): number | undefined {
    if (!this.live(k)) return undefined;
    const e = this.m.get(k)!;
    if (touch) {
      this.m.delete(k);
      this.m.set(k, e);
    }
    return e.v;
  }
  evictOldest() {
    const k = this.m.keys().next().value!;
    this.remove(k, this.stale(k) ? "expired" : "capacity");
  }
  set(k: string, v: number, size: number, ttl: number | undefined): boolean {
    const old = this.m.get(k);
    if (size > this.maxBytes) {
      if (old !== undefined) this.remove(k, this.stale(k) ? "expired" : "deleted");
      return false;
    }
    const exp = ttl === undefined ? Number.POSITIVE_INFINITY : this.now() + ttl;
    if (this.live(k)) {
      this.m.delete(k);
      this.m.set(k, { v, size, exp });
      this.bytes += size - old!.size;
      if (old!.v !== v) this.events.push([k, old!.v, "replaced"]);
    } else {
      while (this.m.size >= this.maxEntries) this.evictOldest();
      this.m.set(k, { v, size, exp });
      this.bytes += size;
    }
    while (this.bytes > this.maxBytes || this.m.size > this.maxEntries) this.evictOldest();
    return true;
  }
  entries(): [string, number][] {
    return [...this.m]
      .filter(([, e]) => e.exp > this.now())
      .reverse()
      .map(([k, e]) => [k, e.v]);
  }
}

describe("differential against a Map-based model", () => {
  const configs: { name: string; maxEntries?: number; maxBytes?: number; ttl: boolean }[] = [
    { name: "count", maxEntries: 16, ttl: false },
    { name: "bytes", maxBytes: 60, ttl: false },
    { name: "both + TTL", maxEntries: 20, maxBytes: 80, ttl: true },
    { name: "bytes + TTL", maxBytes: 50, ttl: true },
    { name: "tiny + TTL", maxEntries: 2, ttl: true },
  ];
  for (const { name, maxEntries, maxBytes, ttl } of configs) {
    for (const seed of [1, 2, 3]) {
      test(`${name}, seed ${seed}`, () => {
        const rand = rng(seed * 7919 + (maxEntries ?? 0));
        const pick = (n: number) => Math.floor(rand() * n);
        const clock = { t: 0 };
        const real: Event[] = [];
        const cache = createLRU<string, number>({
          maxEntries,
          maxBytes,
          now: () => clock.t,
          onEvicted: (k, v, r) => real.push([k, v, r]),
        });
        const model = new Model(maxEntries ?? Infinity, maxBytes ?? Infinity, () => clock.t);
        const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
        for (let step = 0; step < 4000; step++) {
          const op = pick(100);
          const k = keys[pick(keys.length)]!;
          const where = () => `step ${step} op ${op} key ${k}`;
          real.length = 0;
          model.events.length = 0;
          if (op < 35) {
            const v = pick(5);
            const size =
              maxBytes === undefined ? 1 : pick(maxBytes / 3) + (pick(50) === 0 ? maxBytes : 0);
            const t = ttl && pick(2) === 0 ? 1 + pick(20) : undefined;
            const got = cache.set(k, v, { size, ttlMs: t });
            // Leading "expired" events came from the sweep (or were the key itself, which the
            // model would report the same way): apply them to the model first.
            let lead = 0;
            while (lead < real.length && real[lead]![2] === "expired") {
              const [ek, ev] = real[lead]!;
              assert.ok(model.stale(ek), `${where()}: ${ek} reclaimed while live`);
              const e = model.m.get(ek)!;
              assert.equal(e.v, ev);
              model.m.delete(ek);
              model.bytes -= e.size;
              lead++;
            }
            real.splice(0, lead);
            assert.equal(got, model.set(k, v, size, t), where());
          } else if (op < 60) {
            assert.equal(cache.get(k), model.get(k, true), where());
          } else if (op < 68) {
            assert.equal(cache.peek(k), model.get(k, false), where());
          } else if (op < 76) {
            assert.equal(cache.has(k), model.live(k), where());
          } else if (op < 86) {
            const want = model.live(k);
            if (want) model.remove(k, "deleted");
            assert.equal(cache.delete(k), want, where());
          } else if (op < 97) {
            clock.t += pick(6);
          } else if (op < 99) {
            const n = cache.purgeExpired();
            const before = model.m.size;
            for (const key of [...model.m.keys()])
              if (model.stale(key)) model.remove(key, "expired");
            assert.equal(n, before - model.m.size, where());
            assert.deepEqual(
              real.map((e) => e.join()).sort(),
              model.events.map((e) => e.join()).sort(),
              where(),
            );
            model.events.length = 0;
            real.length = 0;
          } else {
            cache.clear();
            for (const key of [...model.m.keys()]) model.remove(key, "deleted");
          }
          assert.deepEqual(real, model.events, where());
          assert.deepEqual([...cache.entries()], model.entries(), where());
          assert.equal(cache.size, model.m.size, where());
          assert.equal(cache.bytes, model.bytes, where());
          assert.ok(
            cache.size <= (maxEntries ?? Infinity) && cache.bytes <= (maxBytes ?? Infinity),
          );
        }
      });
    }
  }
});
