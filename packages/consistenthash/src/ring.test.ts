import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fnv1a32 } from "./hash.ts";
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
    const a = createHashRing();
    const b = createHashRing();
    for (let i = 0; i < 20; i++) a.add(addr(i));
    for (let i = 24; i >= 0; i--) b.add(addr(i), i === 3 ? 2 : 1);
    for (let i = 20; i < 25; i++) b.remove(addr(i));
    b.add(addr(3), 1);
    const sample = keys.slice(0, 50_000);
    for (const k of sample) assert.equal(a.get(k), b.get(k));
    assert.deepEqual(a.nodes(), b.nodes());
  });

  for (const n of [3, 10, 100]) {
    it(`spreads 1M keys over ${n} equal nodes (max/mean < 1.3)`, () => {
      const r = createHashRing();
      for (let i = 0; i < n; i++) r.add(addr(i));
      const m = loads(r);
      assert.equal(m.size, n);
      const ratio = Math.max(...m.values()) / (KEYS / n);
      assert.ok(ratio < 1.3, `max/mean ${ratio.toFixed(3)}`);
    });
  }

  it("honours weights within a few percent", () => {
    const r = createHashRing();
    r.set([{ id: "big", weight: 3 }, { id: "a" }, { id: "b" }, { id: "c" }]);
    const share = (loads(r).get("big") ?? 0) / KEYS;
    assert.ok(Math.abs(share - 0.5) < 0.03, `big share ${share.toFixed(3)}`);
    assert.equal(r.weightOf("big"), 3);
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
  });

  it("rejects bad input", () => {
    assert.throws(() => createHashRing({ replicas: 0 }), RangeError);
    assert.throws(() => createHashRing({ replicas: 1.5 }), RangeError);
    const r = createHashRing();
    assert.throws(() => r.add(""), TypeError);
    assert.throws(() => r.add("a", 0), RangeError);
    assert.throws(() => r.add("a", Number.NaN), RangeError);
    assert.throws(() => r.set([{ id: "a", weight: -1 }]), RangeError);
  });

  it("hashes UTF-8 bytes, so non-ASCII keys are stable", () => {
    assert.equal(fnv1a32("Tom"), fnv1a32("Tom"));
    assert.notEqual(fnv1a32("é"), fnv1a32("e"));
    assert.ok(fnv1a32("🍕") >= 0 && fnv1a32("🍕") <= 0xffffffff);
  });
});
