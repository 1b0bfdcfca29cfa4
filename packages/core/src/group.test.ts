import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ByteView } from "./byte-view.ts";
import { GeeCacheError } from "./errors.ts";
import type { GetterContext, GetterResult } from "./getter.ts";
import type { GroupOptions } from "./group.ts";
import { createRegistry } from "./registry.ts";
import { deferred, tick } from "./test-util.ts";

function isCode(code: string) {
  return (e: unknown) => e instanceof GeeCacheError && e.code === code;
}

// newGroup builds a group in a fresh registry, with a getter over a Map that counts its calls.
function setup(overrides: Partial<GroupOptions> = {}, data = new Map<string, string>()) {
  const calls = new Map<string, number>();
  let clock = 1_000_000;
  const group = createRegistry().newGroup({
    name: "g",
    maxBytes: 1 << 20,
    now: () => clock,
    getter: (key) => {
      calls.set(key, (calls.get(key) ?? 0) + 1);
      return data.get(key) ?? null;
    },
    ...overrides,
  });
  return {
    group,
    data,
    calls,
    advance: (ms: number) => {
      clock += ms;
    },
    now: () => clock,
  };
}

describe("Group.get", () => {
  it("loads a missing key once, then serves it from the cache", async () => {
    const { group, calls } = setup({}, new Map([["a", "1"]]));
    assert.equal((await group.get("a")).toString(), "1");
    assert.equal((await group.get("a")).toString(), "1");
    assert.equal(calls.get("a"), 1);
    const s = group.stats();
    assert.equal(s.gets, 2);
    assert.equal(s.cacheHits, 1);
    assert.equal(s.loads, 1);
    assert.equal(s.loadsDeduped, 1);
    assert.equal(s.localLoads, 1);
    assert.equal(s.mainCache.items, 1);
    assert.equal(s.mainCache.bytes, 2);
  });

  it("runs the getter once for 1,000 concurrent gets of a cold key", async () => {
    const gate = deferred<string>();
    let runs = 0;
    const { group } = setup({
      getter: () => {
        runs++;
        return gate.promise;
      },
    });
    const gets = Array.from({ length: 1000 }, () => group.get("cold"));
    await tick();
    gate.resolve("v");
    const values = await Promise.all(gets);
    assert.equal(runs, 1);
    assert.ok(values.every((v) => v.toString() === "v"));
    const s = group.stats();
    assert.equal(s.loads, 1000);
    assert.equal(s.loadsDeduped, 1);
    assert.equal(s.localLoads, 1);
  });

  it("runs the getter once per key for concurrent gets of 100 keys", async () => {
    const gate = deferred<void>();
    const runs = new Map<string, number>();
    const { group } = setup({
      getter: async (key) => {
        runs.set(key, (runs.get(key) ?? 0) + 1);
        await gate.promise;
        return `v-${key}`;
      },
    });
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    const gets = keys.flatMap((k) => Array.from({ length: 10 }, () => group.get(k)));
    await tick();
    gate.resolve();
    const values = await Promise.all(gets);
    assert.equal(runs.size, 100);
    assert.ok([...runs.values()].every((n) => n === 1));
    assert.equal(values[0]!.toString(), "v-k0");
    assert.equal(values[999]!.toString(), "v-k99");
    assert.equal(group.stats().loadsDeduped, 100);
  });

  it("accepts a Getter object, a string, bytes, a ByteView and { value, ttlMs }", async () => {
    const results: Record<string, GetterResult> = {
      s: "str",
      b: new Uint8Array([104, 105]),
      v: ByteView.from("view"),
      o: { value: "obj", ttlMs: 10 },
    };
    const seen: GetterContext[] = [];
    const { group } = setup({
      getter: {
        get: (key, ctx) => {
          seen.push(ctx);
          return results[key];
        },
      },
    });
    assert.equal((await group.get("s")).toString(), "str");
    assert.equal((await group.get("b")).toString(), "hi");
    assert.equal((await group.get("v")).toString(), "view");
    assert.equal((await group.get("o")).toString(), "obj");
    assert.equal(seen[0]!.group, "g");
    assert.ok(seen[0]!.signal instanceof AbortSignal);
  });

  it("answers repeated hits with one shared settled promise", async () => {
    const { group } = setup({}, new Map([["a", "1"]]));
    const first = await group.get("a");
    const p1 = group.get("a");
    const p2 = group.get("a");
    assert.equal(p1, p2);
    assert.equal(await p1, first);
  });

  it("does not let the getter's buffer change the cached value", async () => {
    const buf = new Uint8Array([1, 2, 3]);
    const { group } = setup({ getter: () => buf });
    await group.get("k");
    buf[0] = 9;
    assert.deepEqual([...(await group.get("k")).toUint8Array()], [1, 2, 3]);
  });
});

describe("Group.get TTL", () => {
  it("honours the getter's ttl and reloads an expired value", async () => {
    let version = 0;
    const t = setup({ getter: () => ({ value: `v${++version}`, ttlMs: 100 }) });
    const first = await t.group.get("k");
    assert.equal(first.toString(), "v1");
    assert.equal(first.expiresAtMs, t.now() + 100);
    t.advance(99);
    assert.equal((await t.group.get("k")).toString(), "v1");
    t.advance(1);
    assert.equal((await t.group.get("k")).toString(), "v2");
    assert.equal(t.group.stats().localLoads, 2);
  });

  it("keeps a value without ttl until evicted", async () => {
    const t = setup({}, new Map([["k", "v"]]));
    await t.group.get("k");
    t.advance(1e9);
    await t.group.get("k");
    assert.equal(t.calls.get("k"), 1);
  });

  it("honours the expiry of a ByteView the getter returns", async () => {
    const t = setup();
    let n = 0;
    const g = createRegistry().newGroup({
      name: "x",
      maxBytes: 1000,
      now: t.now,
      getter: () => ByteView.from(`v${++n}`, { expiresAtMs: t.now() + 50 }),
    });
    assert.equal((await g.get("k")).toString(), "v1");
    t.advance(50);
    assert.equal((await g.get("k")).toString(), "v2");
  });

  it("gives the group's ttlMs to values the getter left without one, and no other", async () => {
    const results: Record<string, () => GetterResult> = {
      plain: () => "v",
      bytes: () => new Uint8Array([1]),
      view: () => ByteView.from("v"),
      object: () => ({ value: "v" }),
      own: () => ({ value: "v", ttlMs: 50 }),
      ownView: () => ByteView.from("v", { expiresAtMs: 1_000_000 + 70 }),
    };
    const t = setup({ ttlMs: 200, getter: (key) => results[key]!() });
    const expiry = async (key: string) => (await t.group.get(key)).expiresAtMs;
    for (const key of ["plain", "bytes", "view", "object"]) {
      assert.equal(await expiry(key), t.now() + 200, key);
    }
    assert.equal(await expiry("own"), t.now() + 50);
    assert.equal(await expiry("ownView"), t.now() + 70);
  });

  it("reloads a value once the group's ttlMs has passed", async () => {
    const t = setup({ ttlMs: 100 }, new Map([["k", "v"]]));
    await t.group.get("k");
    t.advance(99);
    await t.group.get("k");
    assert.equal(t.calls.get("k"), 1);
    t.advance(1);
    await t.group.get("k");
    assert.equal(t.calls.get("k"), 2);
  });

  it("refuses a ttlMs that is not a positive number", () => {
    for (const ttlMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "5" as unknown as number]) {
      assert.throws(() => setup({ ttlMs }), isCode("INVALID_ARGUMENT"), String(ttlMs));
    }
  });

  it("fails the load on a bad ttl", async () => {
    const { group } = setup({ getter: () => ({ value: "v", ttlMs: -1 }) });
    await assert.rejects(group.get("k"), isCode("LOAD_FAILED"));
    assert.equal(group.stats().localLoadErrs, 1);
  });
});

describe("Group.get not found", () => {
  it("treats null, undefined and a NOT_FOUND throw alike, and remembers them for negativeTtlMs", async () => {
    for (const answer of [
      () => null,
      () => undefined,
      () => {
        throw new GeeCacheError("NOT_FOUND", "nope");
      },
    ]) {
      let runs = 0;
      const t = setup({
        negativeTtlMs: 500,
        getter: () => {
          runs++;
          return answer();
        },
      });
      await assert.rejects(t.group.get("k"), isCode("NOT_FOUND"));
      await assert.rejects(t.group.get("k"), isCode("NOT_FOUND"));
      assert.equal(runs, 1);
      t.advance(500);
      await assert.rejects(t.group.get("k"), isCode("NOT_FOUND"));
      assert.equal(runs, 2);
      const s = t.group.stats();
      assert.equal(s.negativeHits, 1);
      assert.equal(s.notFound, 2);
      assert.equal(s.localLoadErrs, 0);
    }
  });

  it("asks the getter every time when negativeTtlMs is 0", async () => {
    const t = setup({ negativeTtlMs: 0 });
    await assert.rejects(t.group.get("k"), isCode("NOT_FOUND"));
    await assert.rejects(t.group.get("k"), isCode("NOT_FOUND"));
    assert.equal(t.calls.get("k"), 2);
  });

  it("forgets a not-found on remove", async () => {
    const t = setup();
    await assert.rejects(t.group.get("k"), isCode("NOT_FOUND"));
    t.data.set("k", "now here");
    assert.equal(t.group.remove("k"), false);
    assert.equal((await t.group.get("k")).toString(), "now here");
  });
});

describe("Group.get failures", () => {
  it("wraps a getter error as LOAD_FAILED with the cause, caches nothing, retries next time", async () => {
    const boom = new Error("db down");
    let fail = true;
    const { group } = setup({
      getter: () => {
        if (fail) throw boom;
        return "ok";
      },
    });
    await assert.rejects(
      group.get("k"),
      (e) => isCode("LOAD_FAILED")(e) && (e as Error).cause === boom,
    );
    fail = false;
    assert.equal((await group.get("k")).toString(), "ok");
    const s = group.stats();
    assert.equal(s.localLoadErrs, 1);
    assert.equal(s.localLoads, 1);
  });

  it("passes a getter's INVALID_ARGUMENT through, unlogged: the key, not the source, is at fault", async () => {
    const warnings: unknown[] = [];
    const t = setup({
      getter: () => {
        throw new GeeCacheError("INVALID_ARGUMENT", "no such path");
      },
      logger: { debug() {}, info() {}, warn: (o) => warnings.push(o), error() {} },
    });
    await assert.rejects(t.group.get(".."), isCode("INVALID_ARGUMENT"));
    assert.deepEqual(warnings, []);
    assert.equal(t.group.stats().localLoadErrs, 0);
  });

  it("logs a getter failure as a warning, with the group, the key and the error", async () => {
    const warnings: object[] = [];
    const quiet = () => {};
    const registry = createRegistry({
      logger: { debug: quiet, info: quiet, warn: (obj) => warnings.push(obj), error: quiet },
    });
    const boom = new Error("db down");
    const group = registry.newGroup({
      name: "g",
      maxBytes: 1000,
      getter: () => {
        throw boom;
      },
    });
    await assert.rejects(group.get("k"), isCode("LOAD_FAILED"));
    assert.deepEqual(warnings, [{ group: "g", key: "k", err: boom }]);
  });

  it("logs a source's own GeeCacheError by its reason: no stack per failed load", async () => {
    const warnings: object[] = [];
    const quiet = () => {};
    const registry = createRegistry({
      logger: { debug: quiet, info: quiet, warn: (obj) => warnings.push(obj), error: quiet },
    });
    const group = registry.newGroup({
      name: "g",
      maxBytes: 1000,
      getter: () => {
        throw new GeeCacheError("LOAD_FAILED", "origin answered 503");
      },
    });
    await assert.rejects(group.get("k"), isCode("LOAD_FAILED"));
    assert.deepEqual(warnings, [{ group: "g", key: "k", reason: "origin answered 503" }]);
  });

  it("logs a load that runs out of loadTimeoutMs as a warning, once per load, and no caller's abort", async () => {
    const warnings: object[] = [];
    const quiet = () => {};
    const registry = createRegistry({
      logger: { debug: quiet, info: quiet, warn: (obj) => warnings.push(obj), error: quiet },
    });
    const started: string[] = [];
    const group = registry.newGroup({
      name: "g",
      maxBytes: 1000,
      loadTimeoutMs: 5,
      // "deaf" ignores its signal; the others reject when it aborts, as a good getter does.
      getter: (key, ctx) =>
        new Promise<string>((_resolve, reject) => {
          started.push(key);
          if (key !== "deaf") ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
        }),
    });
    // Two waiters share one load: one warning.
    const waiters = [group.get("deaf"), group.get("deaf")];
    for (const w of waiters) await assert.rejects(w, isCode("DEADLINE_EXCEEDED"));
    await assert.rejects(group.get("polite"), isCode("DEADLINE_EXCEEDED"));
    assert.deepEqual(warnings, [
      { group: "g", key: "deaf", timeoutMs: 5 },
      { group: "g", key: "polite", timeoutMs: 5 },
    ]);
    // The caller's own deadline is not the load's: not logged.
    const caller = new AbortController();
    const got = group.get("mine", { signal: caller.signal });
    await tick();
    caller.abort(new GeeCacheError("DEADLINE_EXCEEDED", "the caller's deadline"));
    await assert.rejects(got, isCode("DEADLINE_EXCEEDED"));
    assert.deepEqual(started, ["deaf", "polite", "mine"]);
    assert.equal(warnings.length, 2);
  });

  it("rejects, never throws: a picker that throws, a bad signal", async () => {
    const registry = createRegistry({
      peers: {
        pickPeer() {
          throw new Error("picker bug");
        },
      },
    });
    const group = registry.newGroup({ name: "g", maxBytes: 1000, getter: () => "v" });
    const got = group.get("k");
    assert.ok(got instanceof Promise);
    await assert.rejects(
      got,
      (e) => isCode("INTERNAL")(e) && /picker bug/.test((e as Error).message),
    );
    const badSignal = { signal: "x" } as unknown as { signal: AbortSignal };
    await assert.rejects(group.get("k", badSignal), isCode("INVALID_ARGUMENT"));
    assert.throws(() => createRegistry({ peers: {} as never }), isCode("INVALID_ARGUMENT"));
  });

  it("lets one waiter abort without cancelling the load for the others", async () => {
    const gate = deferred<string>();
    let loadSignal: AbortSignal | undefined;
    const { group } = setup({
      getter: (_k, ctx) => {
        loadSignal = ctx.signal;
        return gate.promise;
      },
    });
    const quitter = new AbortController();
    const a = group.get("k", { signal: quitter.signal });
    const b = group.get("k", { signal: new AbortController().signal });
    await tick();
    quitter.abort();
    await assert.rejects(a, isCode("CANCELED"));
    assert.equal(loadSignal!.aborted, false);
    gate.resolve("v");
    assert.equal((await b).toString(), "v");
  });

  it("aborts the load when every waiter aborted, and starts afresh for the next caller", async () => {
    let loadSignal: AbortSignal | undefined;
    let runs = 0;
    const { group } = setup({
      getter: (_k, ctx) => {
        runs++;
        loadSignal = ctx.signal;
        return runs === 1 ? new Promise<string>(() => {}) : "second";
      },
    });
    const c1 = new AbortController();
    const c2 = new AbortController();
    const a = group.get("k", { signal: c1.signal });
    const b = group.get("k", { signal: c2.signal });
    await tick();
    c1.abort();
    assert.equal(loadSignal!.aborted, false);
    c2.abort();
    assert.equal(loadSignal!.aborted, true);
    await assert.rejects(a, isCode("CANCELED"));
    await assert.rejects(b, isCode("CANCELED"));
    assert.equal((await group.get("k")).toString(), "second");
    assert.equal(runs, 2);
  });

  it("rejects at once with an already aborted signal", async () => {
    const t = setup({}, new Map([["k", "v"]]));
    await assert.rejects(t.group.get("k", { signal: AbortSignal.abort() }), isCode("CANCELED"));
    assert.equal(t.calls.size, 0);
    // Still a get that missed every cache: loads = gets - cacheHits - negativeHits holds.
    const s = t.group.stats();
    assert.equal(s.gets, 1);
    assert.equal(s.loads, 1);
  });

  it("gives DEADLINE_EXCEEDED when a getter that ignores its signal outlives loadTimeoutMs", async () => {
    let loadSignal: AbortSignal | undefined;
    const { group } = setup({
      loadTimeoutMs: 1,
      getter: (_k, ctx) => {
        loadSignal = ctx.signal;
        return new Promise<string>(() => {});
      },
    });
    await assert.rejects(group.get("k"), isCode("DEADLINE_EXCEEDED"));
    assert.equal(loadSignal!.aborted, true);
  });
});

describe("Group bad input", () => {
  it("rejects an empty key and a key over maxKeyBytes (UTF-8 bytes)", async () => {
    const { group } = setup({ maxKeyBytes: 6, getter: () => "v" });
    await assert.rejects(group.get(""), isCode("INVALID_ARGUMENT"));
    await assert.rejects(group.get(42 as unknown as string), isCode("INVALID_ARGUMENT"));
    await assert.rejects(group.get("abcdefg"), isCode("INVALID_ARGUMENT"));
    await assert.rejects(group.get("€€€"), /longer than 6 bytes/); // 3 chars, 9 bytes
    assert.equal((await group.get("abcdef")).toString(), "v");
    assert.equal((await group.get("€€")).toString(), "v");
    assert.throws(() => group.remove(""), isCode("INVALID_ARGUMENT"));
    assert.equal(group.stats().gets, 2);
  });

  it("rejects the default maximum: 1025 bytes", async () => {
    const { group } = setup({ getter: () => "v" });
    await group.get("k".repeat(1024));
    await assert.rejects(group.get("k".repeat(1025)), isCode("INVALID_ARGUMENT"));
  });

  it("rejects bad options with INVALID_ARGUMENT", () => {
    const getter = () => "v";
    const bad: Partial<GroupOptions>[] = [
      { name: "" },
      { maxBytes: 0 },
      { maxBytes: Number.NaN },
      { hotCacheFraction: 1 },
      { hotCacheFraction: -0.1 },
      { hotCacheSampleRate: 2 },
      { negativeTtlMs: -1 },
      { maxKeyBytes: 0 },
      { loadTimeoutMs: 0 },
      { peerTimeoutMs: -5 },
      { getter: 5 as unknown as GroupOptions["getter"] },
      { negativeMaxEntries: 1.5 },
      { maxKeyBytes: 2.5 },
      { now: 5 as unknown as GroupOptions["now"] },
      { random: "0" as unknown as GroupOptions["random"] },
      { cacheFactory: 5 as unknown as GroupOptions["cacheFactory"] },
      { peers: {} as GroupOptions["peers"] },
    ];
    for (const o of bad) {
      assert.throws(
        () => createRegistry().newGroup({ name: "g", maxBytes: 100, getter, ...o }),
        isCode("INVALID_ARGUMENT"),
        JSON.stringify(o),
      );
    }
  });
});

describe("Group caches", () => {
  it("evicts within maxBytes and counts evictions", async () => {
    // 10 entries of 1 + 9 bytes fill a main cache of 100 bytes (no hot cache).
    const { group } = setup({ maxBytes: 100, hotCacheFraction: 0, getter: () => "x".repeat(9) });
    for (let i = 0; i < 15; i++) await group.get(String.fromCharCode(97 + i));
    const s = group.stats();
    assert.equal(s.mainCache.items, 10);
    assert.equal(s.mainCache.bytes, 100);
    assert.equal(s.mainCache.evictions, 5);
    assert.equal(s.evictions, 5);
  });

  it("remove drops a cached value so the next get reloads", async () => {
    const t = setup({}, new Map([["k", "v1"]]));
    await t.group.get("k");
    t.data.set("k", "v2");
    assert.equal(t.group.remove("k"), true);
    assert.equal((await t.group.get("k")).toString(), "v2");
  });
});
