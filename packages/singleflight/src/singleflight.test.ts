import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createSingleflight } from "./singleflight.ts";

function gate<T>() {
  let open!: (v: T) => void;
  let fail!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { promise, open, fail };
}

describe("singleflight", () => {
  it("runs fn once for 1,000 concurrent callers and shares the result", async () => {
    const sf = createSingleflight();
    const g = gate<number>();
    let runs = 0;
    const calls = Array.from({ length: 1000 }, () =>
      sf.do("k", () => {
        runs++;
        return g.promise;
      }),
    );
    assert.equal(sf.size, 1);
    g.open(42);
    const results = await Promise.all(calls);
    assert.equal(runs, 1);
    assert.ok(results.every((r) => r === 42));
    assert.equal(sf.size, 0);
  });

  it("shares an error and does not cache it", async () => {
    const sf = createSingleflight();
    const g = gate<number>();
    let runs = 0;
    const fn = () => {
      runs++;
      return g.promise;
    };
    const a = sf.do("k", fn);
    const b = sf.do("k", fn);
    g.fail(new Error("boom"));
    await assert.rejects(a, /boom/);
    await assert.rejects(b, /boom/);
    assert.equal(await sf.do("k", () => 7), 7);
    assert.equal(runs, 1);
  });

  it("frees the key when fn throws synchronously", async () => {
    const sf = createSingleflight();
    await assert.rejects(
      sf.do("k", () => {
        throw new Error("sync");
      }),
      /sync/,
    );
    assert.equal(sf.has("k"), false);
    assert.equal(await sf.do("k", () => "again"), "again");
  });

  it("runs again after settling (re-entry)", async () => {
    const sf = createSingleflight();
    let runs = 0;
    for (let i = 0; i < 3; i++) await sf.do("k", () => ++runs);
    assert.equal(runs, 3);
  });

  it("keys are independent", async () => {
    const sf = createSingleflight();
    let runs = 0;
    const all = await Promise.all(
      Array.from({ length: 100 }, (_, i) => sf.do(`k${i % 10}`, async () => ++runs && i % 10)),
    );
    assert.equal(runs, 10);
    assert.deepEqual(all.slice(0, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("doShared tells the leader from the followers", async () => {
    const sf = createSingleflight();
    const g = gate<void>();
    const a = sf.doShared("k", () => g.promise);
    const b = sf.doShared("k", () => g.promise);
    assert.equal(a.shared, false);
    assert.equal(b.shared, true);
    g.open();
    await Promise.all([a.promise, b.promise]);
  });

  it("forget lets a new call start while old waiters keep the old result", async () => {
    const sf = createSingleflight();
    const first = gate<string>();
    const a = sf.do("k", () => first.promise);
    assert.equal(sf.forget("k"), true);
    const b = sf.do("k", () => "second");
    first.open("first");
    assert.equal(await a, "first");
    assert.equal(await b, "second");
    // The first call settling must not drop the second call's entry early.
    assert.equal(sf.size, 0);
  });

  it("retains nothing after many keys settle", async () => {
    const sf = createSingleflight();
    await Promise.all(Array.from({ length: 10_000 }, (_, i) => sf.do(String(i), async () => i)));
    await Promise.allSettled(
      Array.from({ length: 10_000 }, (_, i) =>
        sf.do(`e${i}`, async () => {
          throw new Error(String(i));
        }),
      ),
    );
    assert.equal(sf.size, 0);
  });
});
