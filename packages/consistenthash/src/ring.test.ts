import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fmix32 as fmix, fnv1a32, fnv1a32Bytes } from "./hash.ts";
import { createHashRing, type HashRing } from "./ring.ts";

const KEYS = 1_000_000;
const keys = Array.from({ length: KEYS }, (_, i) => `key-${i}`);
const addr = (i: number) => `10.0.${i >> 8}.${i & 255}:8001`;

function owners(ring: HashRing): string[] {
  return keys.map((k) => ring.get(k)!);
}

function loads(ring: HashRing): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) {
    const o = ring.get(k)!;
    m.set(o, (m.get(o) ?? 0) + 1);
  }
  return m;
}

describe("createHashRing", () => {
  it("is empty until nodes are added", () => {
    const r = createHashRing();
    assert.equal(r.get("a"), undefined);
    assert.deepEqual(r.getN("a", 3), []);
    assert.equal(r.size, 0);
  });

  it("routes with a custom hash like groupcache's test", () => {
    // Virtual node "id#r" hashes to the number in id plus r*10 ... keys hash to their number.
    const hash = (s: string) => {
      const [id, r] = s.split("#");
      return Number(id) + (r === undefined ? 0 : Number(r) * 10);
    };
    const r = createHashRing({ replicas: 3, hash });
    r.set(["6", "4", "2"]); // points 2,4,6,12,14,16,22,24,26
    const cases: [string, string][] = [
      ["2", "2"],
      ["11", "2"],
      ["23", "4"],
      ["27", "2"],
    ];
    for (const [k, want] of cases) assert.equal(r.get(k), want, `key ${k}`);
    r.add("8"); // adds 8,18,28
    assert.equal(r.get("27"), "8");
    assert.deepEqual(r.getN("27", 3), ["8", "2", "4"]);
  });

  it("is deterministic whatever the order of adds and removes", () => {
    // Colliding hashes (only 64 values for points) make the id tie-break matter everywhere.
    for (const hash of [fnv1a32, (s: string) => fnv1a32(s) % 64]) {
      const rand = mulberry32(7);
      const final = new Map<string, number>();
      for (let i = 0; i < 40; i++) final.set(addr(i), 1 + (i % 3));
      const want = createHashRing({ hash, replicas: 20 });
      want.set([...final].map(([id, weight]) => ({ id, weight })));
      for (let trial = 0; trial < 5; trial++) {
        const r = createHashRing({ hash, replicas: 20 });
        // Start from a random membership with wrong weights and strangers, then converge by
        // single adds and removes in a shuffled order, looking keys up between steps so the
        // ring is rebuilt incrementally at random points.
        r.set(shuffle([...final.keys(), "x", "y"], rand).slice(0, 20));
        const steps = shuffle(
          [
            ...[...final].map(
              ([id, w]) =>
                () =>
                  r.add(id, w),
            ),
            () => r.remove("x"),
            () => r.remove("y"),
            () => r.add(addr(99), 2),
            () => r.add(addr(5), 1),
          ],
          rand,
        );
        for (const step of steps) {
          step();
          if (rand() < 0.3) r.get("probe");
        }
        r.remove(addr(99));
        r.add(addr(5), final.get(addr(5))!);
        assert.deepEqual(r.nodes(), want.nodes());
        for (const k of keys.slice(0, 20_000)) assert.deepEqual(r.getN(k, 3), want.getN(k, 3), k);
      }
    }
  });

  it("agrees with a fresh ring after shrinking to a tenth and growing back", () => {
    const all = Array.from({ length: 50 }, (_, i) => addr(i));
    const r = createHashRing();
    r.set(all);
    r.get("probe");
    for (const id of all.slice(5)) r.remove(id);
    const few = createHashRing();
    few.set(all.slice(0, 5));
    for (const k of keys.slice(0, 10_000)) assert.equal(r.get(k), few.get(k));
    for (const id of all.slice(5).reverse()) {
      r.add(id);
      if (id.endsWith("0:8001")) r.get("probe");
    }
    const full = createHashRing();
    full.set(all);
    for (const k of keys.slice(0, 10_000)) assert.deepEqual(r.getN(k, 2), full.getN(k, 2));
  });

  it("set keeps members that stay and validates before changing anything", () => {
    const r = createHashRing();
    r.set(["a", "b", { id: "c", weight: 2 }]);
    const before = keys.slice(0, 1000).map((k) => r.get(k));
    assert.throws(() => r.set(["a", { id: "d", weight: 0 }]), RangeError);
    assert.deepEqual(r.nodes(), ["a", "b", "c"]);
    assert.deepEqual(
      keys.slice(0, 1000).map((k) => r.get(k)),
      before,
    );
    r.set(["b", "a", { id: "c", weight: 1 }]);
    assert.equal(r.weightOf("c"), 1);
    r.set([]);
    assert.equal(r.size, 0);
    assert.equal(r.get("a"), undefined);
  });

  it("the default hash's fast path for virtual nodes matches fnv1a32 on each name", () => {
    const fast = createHashRing();
    const plain = createHashRing({ hash: (s) => fnv1a32(s) });
    const ids = [
      "a",
      "10.0.0.1:8001",
      "nœud-é",
      "🍕 node",
      ...Array.from({ length: 20 }, (_, i) => addr(i)),
    ];
    fast.set(ids);
    plain.set(ids);
    for (const k of keys.slice(0, 20_000)) assert.equal(fast.get(k), plain.get(k));
  });

  // Measured with the default hash and 160 replicas: 1.06, 1.08, 1.17.
  for (const [n, bound] of [
    [3, 1.15],
    [10, 1.15],
    [100, 1.3],
  ] as const) {
    it(`spreads 1M keys over ${n} equal nodes (max/mean < ${bound})`, () => {
      const r = createHashRing();
      for (let i = 0; i < n; i++) r.add(addr(i));
      const m = loads(r);
      assert.equal(m.size, n);
      const ratio = Math.max(...m.values()) / (KEYS / n);
      assert.ok(ratio < bound, `max/mean ${ratio.toFixed(3)}`);
    });
  }

  it("honours weights within a few percent", () => {
    const r = createHashRing();
    r.set([{ id: "big", weight: 3 }, { id: "a" }, { id: "b" }, { id: "c" }]);
    const share = (loads(r).get("big") ?? 0) / KEYS;
    assert.ok(Math.abs(share - 0.5) < 0.03, `big share ${share.toFixed(3)}`);
    assert.equal(r.weightOf("big"), 3);

    const weights = [1, 2, 3, 4, 0.5, 1.5];
    const total = weights.reduce((a, b) => a + b);
    r.set(weights.map((weight, i) => ({ id: addr(i), weight })));
    const m = loads(r);
    weights.forEach((w, i) => {
      const got = (m.get(addr(i)) ?? 0) / KEYS;
      assert.ok(Math.abs(got - w / total) < 0.02, `weight ${w}: share ${got.toFixed(3)}`);
    });
  });

  it("adding an (n+1)th node moves about 1/(n+1) of the keys, all onto it", () => {
    const n = 10;
    const r = createHashRing();
    for (let i = 0; i < n; i++) r.add(addr(i));
    const before = owners(r);
    r.add("newcomer");
    let moved = 0;
    for (let i = 0; i < KEYS; i++) {
      const now = r.get(keys[i]!);
      if (now !== before[i]) {
        moved++;
        assert.equal(now, "newcomer");
      }
    }
    const frac = moved / KEYS;
    assert.ok(Math.abs(frac - 1 / (n + 1)) < 0.02, `moved ${frac.toFixed(4)}`);
  });

  it("removing a node moves only its keys", () => {
    const r = createHashRing();
    for (let i = 0; i < 10; i++) r.add(addr(i));
    const before = owners(r);
    const gone = addr(4);
    assert.equal(r.remove(gone), true);
    assert.equal(r.remove(gone), false);
    for (let i = 0; i < KEYS; i++) {
      if (before[i] !== gone) assert.equal(r.get(keys[i]!), before[i]);
      else assert.notEqual(r.get(keys[i]!), gone);
    }
  });

  it("getN returns distinct nodes, owner first, capped at the member count", () => {
    const r = createHashRing();
    r.set(["a", "b", "c"]);
    for (const k of keys.slice(0, 1000)) {
      const got = r.getN(k, 5);
      assert.equal(got.length, 3);
      assert.equal(new Set(got).size, 3);
      assert.equal(got[0], r.get(k));
    }
    assert.deepEqual(r.getN("x", 0), []);
    assert.throws(() => r.getN("x", -1), RangeError);
    assert.throws(() => r.getN("x", 1.5), RangeError);
  });

  it("rejects bad input", () => {
    assert.throws(() => createHashRing({ replicas: 0 }), RangeError);
    assert.throws(() => createHashRing({ replicas: 1.5 }), RangeError);
    assert.throws(() => createHashRing({ replicas: "3" as unknown as number }), TypeError);
    assert.throws(() => createHashRing(null as never), /^TypeError: createHashRing: options/);
    const r = createHashRing();
    assert.throws(() => r.add(""), TypeError);
    assert.throws(() => r.add("a", 0), RangeError);
    assert.throws(() => r.add("a", Number.NaN), RangeError);
    assert.throws(() => r.add("a", Number.POSITIVE_INFINITY), RangeError);
    assert.throws(() => r.add("a", 1e9), RangeError);
    assert.throws(() => r.add(1 as unknown as string), TypeError);
    assert.equal(r.size, 0);
    assert.throws(() => r.set([{ id: "a", weight: -1 }]), RangeError);
    assert.throws(() => r.set("10.0.0.1:8001"), TypeError);
    assert.throws(() => r.get(undefined as unknown as string), TypeError);
    assert.throws(() => r.getN(1 as unknown as string, 1), TypeError);
    // Points are placed lazily, so a bad hash shows at the first lookup.
    for (const bad of [Number.NaN, 0.5, 2 ** 32]) {
      const r2 = createHashRing({ hash: () => bad });
      r2.add("a");
      assert.throws(() => r2.get("x"), TypeError, String(bad));
    }
    // Signed 32-bit results (Math.imul's) are fine.
    const signed = createHashRing({ hash: (s) => Math.imul(s.length, -1) });
    signed.add("a");
    assert.equal(signed.get("x"), "a");
    assert.equal(r.size, 0);
  });

  it("a throwing custom hash leaves the ring usable", () => {
    let fail = false;
    const r = createHashRing({
      replicas: 4,
      hash: (s) => {
        if (fail && s.startsWith("bad#")) throw new Error("hash down");
        return fnv1a32(s);
      },
    });
    r.set(["a", "b"]);
    const before = r.get("k");
    fail = true;
    r.add("bad");
    assert.throws(() => r.get("k"), /hash down/);
    fail = false;
    const want = createHashRing({ replicas: 4 });
    want.set(["a", "b", "bad"]);
    assert.deepEqual(r.getN("k", 3), want.getN("k", 3));
    assert.ok(before === "a" || before === "b");
  });

  it("hashes UTF-8 bytes, so non-ASCII keys agree with any UTF-8 implementation", () => {
    const utf8 = new TextEncoder();
    for (const s of ["", "Tom", "é", "naïve-key", "键", "🍕", "a🍕b", "\u{10ffff}"]) {
      assert.equal(fnv1a32(s), fnv1a32Bytes(utf8.encode(s)), s);
      assert.equal(fnv1a32(s), fnv1a32Bytes(Buffer.from(s, "utf8")), s);
    }
    // Known answers pin the function so other processes and languages can reproduce it.
    assert.equal(fnv1a32(""), fmix(0x811c9dc5));
    assert.equal(fnv1a32("Tom"), 0xf02c8e52);
    assert.equal(fnv1a32("é"), 0x8e4756c7);
    assert.equal(fnv1a32("🍕"), 0xbbf7a33d);
    assert.notEqual(fnv1a32("é"), fnv1a32("e"));
  });

  it("fnv1a32 spreads sequential keys evenly (chi-square over 1,024 buckets)", () => {
    // Top 10 bits, since the ring compares whole values and high bits matter most.
    const buckets = new Uint32Array(1024);
    for (const k of keys) buckets[fnv1a32(k) >>> 22]!++;
    const expected = KEYS / 1024;
    let chi = 0;
    for (const b of buckets) chi += (b - expected) ** 2 / expected;
    // df = 1023: mean 1023, sd ≈ 45; 1250 is 5 sd above a uniform hash.
    assert.ok(chi < 1250, `chi-square ${chi.toFixed(0)}`);
  });
});

// mulberry32 is a tiny seeded PRNG, so shuffled orders are the same on every run.
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(xs: T[], rand: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}
