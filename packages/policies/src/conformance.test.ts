import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Cache, CacheOptions, EvictionReason } from "@geecache/lru";
import { rng } from "@geecache/testkit";
import { createCache, type PolicyName, policyNames } from "./index.ts";

type Event = [string, number, EvictionReason];

function make(
  policy: PolicyName,
  options: Omit<CacheOptions<string, number>, "onEvicted">,
): { cache: Cache<string, number>; events: Event[] } {
  const events: Event[] = [];
  const cache = createCache<string, number>(policy, {
    ...options,
    onEvicted: (k, v, r) => events.push([k, v, r]),
  });
  return { cache, events };
}

for (const policy of policyNames) {
  describe(`${policy}: the Cache contract`, () => {
    test("bad options and sizes throw TypeError or RangeError", () => {
      const bad: [unknown, string][] = [
        [{}, "TypeError"],
        [null, "TypeError"],
        [{ maxEntries: -1 }, "RangeError"],
        [{ maxEntries: 1.5 }, "RangeError"],
        [{ maxBytes: Number.NaN }, "RangeError"],
        [{ maxBytes: Number.POSITIVE_INFINITY }, "RangeError"],
        [{ maxEntries: 1, ttlMs: 0 }, "RangeError"],
        [{ maxEntries: 1, ttlMs: "1" }, "TypeError"],
        [{ maxEntries: "5" }, "TypeError"],
        [{ maxBytes: "10" }, "TypeError"],
        [{ maxEntries: 1, sizeOf: 3 }, "TypeError"],
        [{ maxEntries: 1, onEvicted: {} }, "TypeError"],
        [{ maxEntries: 1, now: 0 }, "TypeError"],
      ];
      for (const [options, name] of bad) {
        assert.throws(
          () => createCache(policy, options as CacheOptions<string, number>),
          { name },
          JSON.stringify(options),
        );
      }
      const cache = createCache<string, number>(policy, { maxBytes: 10 });
      assert.throws(() => cache.set("a", 1, { size: -1 }), RangeError);
      assert.throws(() => cache.set("a", 1, { size: Number.NaN }), RangeError);
      assert.throws(() => cache.set("a", 1, { size: "2" as unknown as number }), TypeError);
      assert.throws(() => cache.set("a", 1, { ttlMs: -5 }), RangeError);
      const bySize = createCache<string, number>(policy, { maxBytes: 10, sizeOf: () => -1 });
      assert.throws(() => bySize.set("a", 1), RangeError);
      assert.equal(cache.size, 0);
    });

    test("an entry larger than maxBytes is not stored and removes the older value", () => {
      const { cache, events } = make(policy, { maxBytes: 10 });
      assert.equal(cache.set("a", 1, { size: 4 }), true);
      assert.equal(cache.set("a", 2, { size: 11 }), false);
      assert.equal(cache.get("a"), undefined);
      assert.equal(cache.bytes, 0);
      assert.deepEqual(events, [["a", 1, "deleted"]]);
      assert.equal(cache.set("b", 3, { size: 10 }), true);
      assert.equal(cache.bytes, 10);
      assert.equal(createCache(policy, { maxEntries: 0 }).set("x", 1), false);
    });

    test("byte and entry budgets hold, and evictions say capacity", () => {
      const { cache, events } = make(policy, { maxBytes: 10, sizeOf: (v) => v });
      for (let i = 0; i < 20; i++) {
        cache.set(`k${i}`, 1 + (i % 4));
        assert.ok(cache.bytes <= 10, `bytes ${cache.bytes}`);
      }
      assert.ok(events.length > 0);
      assert.ok(events.every(([, , r]) => r === "capacity"));
      let sum = 0;
      for (const [, v] of cache.entries()) sum += v;
      assert.equal(sum, cache.bytes);

      const counted = make(policy, { maxEntries: 3 });
      for (let i = 0; i < 10; i++) counted.cache.set(`k${i}`, i);
      assert.equal(counted.cache.size, 3);
      assert.equal(counted.events.length, 7);
      assert.equal([...counted.cache.keys()].length, 3);
    });

    test("TTLs: an expired entry is never returned and is reported as expired", () => {
      let now = 1000;
      const { cache, events } = make(policy, { maxEntries: 10, ttlMs: 100, now: () => now });
      cache.set("a", 1);
      cache.set("b", 2, { ttlMs: 500 });
      now = 1099;
      assert.equal(cache.get("a"), 1);
      assert.equal(cache.peek("a"), 1);
      now = 1100;
      assert.equal(cache.has("a"), false);
      assert.equal(cache.get("a"), undefined);
      assert.equal(cache.get("b"), 2);
      assert.deepEqual([...cache.keys()], ["b"]);
      assert.deepEqual(events, [["a", 1, "expired"]]);
      now = 1600;
      assert.deepEqual([...cache.entries()], []);
      assert.equal(cache.delete("b"), false);
      assert.deepEqual(events.at(-1), ["b", 2, "expired"]);
    });

    test("expired entries are reclaimed by later sets without being touched", () => {
      let now = 0;
      const { cache, events } = make(policy, { maxEntries: 100, now: () => now });
      for (let i = 0; i < 10; i++) cache.set(`t${i}`, i, { ttlMs: 10 });
      now = 10;
      for (let i = 0; i < 40; i++) cache.set(`n${i}`, i);
      const expired = events.filter(([, , r]) => r === "expired").map(([k]) => k);
      assert.equal(expired.length, 10);
      assert.equal(cache.size, 40);
    });

    test("replace, delete and clear report their reasons", () => {
      const { cache, events } = make(policy, { maxEntries: 5 });
      cache.set("a", 1);
      cache.set("a", 1);
      cache.set("a", 2);
      assert.equal(cache.get("a"), 2);
      assert.deepEqual(events, [["a", 1, "replaced"]]);
      cache.set("b", 3);
      assert.equal(cache.delete("b"), true);
      assert.equal(cache.delete("b"), false);
      assert.deepEqual(events.at(-1), ["b", 3, "deleted"]);
      cache.set("c", 4);
      events.length = 0;
      cache.clear();
      assert.equal(cache.size, 0);
      assert.equal(cache.bytes, 0);
      assert.deepEqual(events.map(([k, , r]) => `${k}:${r}`).sort(), ["a:deleted", "c:deleted"]);
      cache.set("d", 5);
      assert.equal(cache.get("d"), 5);
    });

    test("onEvicted may call back into the cache", () => {
      const seen: string[] = [];
      const cache: Cache<string, number> = createCache<string, number>(policy, {
        maxEntries: 3,
        onEvicted: (k, v, reason) => {
          seen.push(k);
          if (reason === "capacity" && !k.startsWith("re")) cache.set(`re${k}`, v);
          cache.get("k0");
        },
      });
      for (let i = 0; i < 20; i++) {
        cache.set(`k${i}`, i);
        assert.ok(cache.size <= 3);
      }
      assert.ok(seen.length >= 17);
    });
  });
}

describe("randomized: no policy exceeds its budget or returns an evicted or expired value", () => {
  const budgets: Omit<CacheOptions<string, number>, "now" | "onEvicted">[] = [
    { maxEntries: 8 },
    { maxBytes: 20 },
    { maxBytes: 16, maxEntries: 6 },
    // Budgets a single entry can fill: entries as large as the whole cache, and policies whose
    // shares (LIRS's LIR share, W-TinyLFU's window) round down to nothing.
    { maxEntries: 1 },
    { maxBytes: 5 },
  ];
  for (const policy of policyNames) {
    test(policy, () => {
      for (let seed = 1; seed <= 10; seed++) {
        const random = rng(seed * 7919 + policyNames.indexOf(policy));
        const budget = budgets[seed % budgets.length]!;
        const maxBytes = budget.maxBytes ?? Number.POSITIVE_INFINITY;
        const maxEntries = budget.maxEntries ?? Number.POSITIVE_INFINITY;
        let now = 0;
        /** What the cache holds by its own account: every set that succeeded, less every report. */
        const model = new Map<string, { value: number; size: number; expiry: number }>();
        /** The value a set in progress is storing: a policy may evict (or decline) it at once. */
        let storing: number | undefined;
        let storingEvicted = false;
        const cache = createCache<string, number>(policy, {
          ...budget,
          now: () => now,
          onEvicted: (key, value, reason) => {
            if (value === storing) {
              assert.equal(reason, "capacity");
              storingEvicted = true;
              return;
            }
            const m = model.get(key);
            assert.ok(
              m !== undefined && m.value === value,
              `${reason} of ${key}=${value} not held`,
            );
            if (reason === "expired") assert.ok(m.expiry <= now, `${key} expired early`);
            model.delete(key);
          },
        });
        let next = 0;
        const expect = (key: string): number | undefined => {
          const m = model.get(key);
          return m !== undefined && m.expiry > now ? m.value : undefined;
        };
        for (let op = 0; op < 3000; op++) {
          const key = `k${Math.floor(random() * 24)}`;
          const r = random();
          if (r < 0.45) {
            const want = expect(key);
            assert.equal(cache.get(key), want, `get ${key} at op ${op}`);
          } else if (r < 0.85) {
            const size = Math.floor(random() * 6);
            const ttlMs = random() < 0.3 ? 1 + Math.floor(random() * 20) : undefined;
            const value = next++;
            storing = value;
            storingEvicted = false;
            const stored = cache.set(key, value, { size, ttlMs });
            storing = undefined;
            assert.equal(stored, !storingEvicted && size <= maxBytes, `set ${key} at op ${op}`);
            if (stored) {
              model.set(key, {
                value,
                size,
                expiry: ttlMs === undefined ? Number.POSITIVE_INFINITY : now + ttlMs,
              });
            }
            assert.equal(stored, size <= maxBytes ? cache.has(key) : false);
          } else if (r < 0.9) {
            assert.equal(cache.peek(key), expect(key), `peek ${key}`);
            assert.equal(cache.has(key), expect(key) !== undefined, `has ${key}`);
          } else if (r < 0.95) {
            const want = expect(key) !== undefined;
            assert.equal(cache.delete(key), want, `delete ${key}`);
          } else if (r < 0.999) {
            now += Math.floor(random() * 4);
          } else {
            cache.clear();
          }
          assert.ok(cache.bytes <= maxBytes, `bytes ${cache.bytes} > ${maxBytes}`);
          assert.ok(cache.size <= maxEntries, `size ${cache.size} > ${maxEntries}`);
          assert.equal(cache.size, model.size, `size at op ${op}`);
          let bytes = 0;
          for (const m of model.values()) bytes += m.size;
          assert.equal(cache.bytes, bytes, `bytes at op ${op}`);
        }
        const live = [...model].filter(([, m]) => m.expiry > now).map(([k]) => k);
        assert.deepEqual([...cache.keys()].sort(), live.sort());
      }
    });
  }
});
