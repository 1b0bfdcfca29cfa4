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
    const second = gate<string>();
    let runs = 0;
    const a = sf.do("k", () => {
      runs++;
      return first.promise;
    });
    const a2 = sf.do("k", () => "never");
    assert.equal(sf.forget("k"), true);
    assert.equal(sf.has("k"), false);
    assert.equal(sf.forget("k"), false);
    const b = sf.do("k", () => {
      runs++;
      return second.promise;
    });
    const b2 = sf.do("k", () => "never");
    assert.equal(runs, 2);
    // The old call settling must not drop the new call's entry.
    first.open("first");
    assert.equal(await a, "first");
    assert.equal(await a2, "first");
    assert.equal(sf.has("k"), true);
    assert.equal(sf.size, 1);
    second.open("second");
    assert.equal(await b, "second");
    assert.equal(await b2, "second");
    assert.equal(sf.size, 0);
  });

  it("a do for the same key from inside fn starts its own call instead of deadlocking", async () => {
    const sf = createSingleflight();
    let inner: Promise<string> | undefined;
    const outer = sf.do("k", async () => {
      inner = sf.do("k", () => "inner");
      return `outer after ${await inner}`;
    });
    assert.equal(await outer, "outer after inner");
    assert.equal(await inner, "inner");
    assert.equal(sf.size, 0);
  });

  it("has and size track keys in flight", async () => {
    const sf = createSingleflight();
    const g = gate<void>();
    assert.equal(sf.has("a"), false);
    const calls = ["a", "b", "a", "c"].map((k) => sf.do(k, () => g.promise));
    assert.equal(sf.size, 3);
    assert.equal(sf.has("a"), true);
    g.open();
    await Promise.all(calls);
    assert.equal(sf.size, 0);
    assert.equal(sf.has("a"), false);
  });

  it("adopts thenables and plain values", async () => {
    const sf = createSingleflight();
    // A foreign promise-like (what some drivers return) must be adopted, not returned as a value.
    // biome-ignore lint/suspicious/noThenProperty: the test needs a thenable
    const thenable: PromiseLike<number> = { then: (ok) => Promise.resolve(ok?.(5)) as never };
    assert.equal(await sf.do("t", () => thenable), 5);
    assert.equal(await sf.do("v", () => "plain"), "plain");
    assert.equal(sf.size, 0);
  });

  it("retains nothing after 100,000 keys settle, whether they resolve, reject or throw", async () => {
    const sf = createSingleflight();
    const err = new Error("shared"); // one Error, so the test does not time stack traces
    const N = 100_000;
    const calls = Array.from({ length: N }, (_, i) =>
      sf.do(`k${i}`, () => {
        if (i % 3 === 0) return i;
        if (i % 3 === 1) return Promise.reject(err);
        throw err;
      }),
    );
    assert.equal(sf.size, N); // all in flight until the microtasks run
    const all = await Promise.allSettled(calls);
    assert.equal(all.filter((r) => r.status === "fulfilled").length, Math.ceil(N / 3));
    assert.equal(sf.size, 0);
  });
});
