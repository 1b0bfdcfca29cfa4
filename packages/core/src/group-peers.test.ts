import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GeeCacheError } from "./errors.ts";
import type { GroupOptions } from "./group.ts";
import type { PeerGetResponse, PeerGetter, PeerPicker } from "./peers.ts";
import { createRegistry } from "./registry.ts";
import { createRingPeerPicker } from "./ring-peer-picker.ts";
import { deferred, type FakePeer, fakePeer, tick } from "./test-util.ts";

function isCode(code: string) {
  return (e: unknown) => e instanceof GeeCacheError && e.code === code;
}

// A picker that sends keys starting with "r" to peer, and keeps the rest local.
function prefixPicker(peer: PeerGetter): PeerPicker {
  return { pickPeer: (key) => (key.startsWith("r") ? peer : undefined) };
}

function setup(peer: FakePeer, overrides: Partial<GroupOptions> = {}) {
  let clock = 1_000_000;
  const local: string[] = [];
  const registry = createRegistry({ peers: prefixPicker(peer) });
  const group = registry.newGroup({
    name: "g",
    maxBytes: 1 << 20,
    now: () => clock,
    random: () => 0, // every peer value is sampled into the hot cache unless a test says otherwise
    getter: (key) => {
      local.push(key);
      return `local:${key}`;
    },
    ...overrides,
  });
  return {
    registry,
    group,
    local,
    advance: (ms: number) => {
      clock += ms;
    },
    now: () => clock,
  };
}

const owner = (id = "peer-1") =>
  fakePeer(id, async (req) => ({ value: new TextEncoder().encode(`remote:${req.key}`) }));

describe("Group with peers", () => {
  it("asks the owner, not the getter, and fills the hot cache", async () => {
    const peer = owner();
    const { group, local } = setup(peer);
    assert.equal((await group.get("r1")).toString(), "remote:r1");
    assert.deepEqual(peer.calls, [{ group: "g", key: "r1" }]);
    assert.deepEqual(local, []);
    // The hot cache answers the second get: no second network call.
    assert.equal((await group.get("r1")).toString(), "remote:r1");
    assert.equal(peer.calls.length, 1);
    const s = group.stats();
    assert.equal(s.peerLoads, 1);
    assert.equal(s.cacheHits, 1);
    assert.equal(s.hotCacheHits, 1);
    assert.equal(s.hotCache.items, 1);
    assert.equal(s.mainCache.items, 0);
    assert.equal(s.localLoads, 0);
  });

  it("loads keys it owns locally", async () => {
    const peer = owner();
    const { group, local } = setup(peer);
    assert.equal((await group.get("k")).toString(), "local:k");
    assert.deepEqual(local, ["k"]);
    assert.equal(peer.calls.length, 0);
  });

  it("mirrors peer values into the hot cache only when sampled", async () => {
    const peer = owner();
    const draws = [0.5, 0.05];
    const { group } = setup(peer, { hotCacheSampleRate: 0.1, random: () => draws.shift() ?? 1 });
    await group.get("r1"); // 0.5: not sampled
    await group.get("r1"); // fetched again; 0.05: sampled
    await group.get("r1"); // hot hit
    assert.equal(peer.calls.length, 2);
    assert.equal(group.stats().hotCacheHits, 1);
  });

  it("has no hot cache with hotCacheFraction 0", async () => {
    const peer = owner();
    const { group } = setup(peer, { hotCacheFraction: 0 });
    await group.get("r1");
    await group.get("r1");
    assert.equal(peer.calls.length, 2);
    assert.equal(group.stats().hotCache.items, 0);
  });

  it("falls back to a local load when the peer fails, and counts it", async () => {
    const peer = fakePeer("down");
    const { group, local } = setup(peer);
    assert.equal((await group.get("r1")).toString(), "local:r1");
    assert.deepEqual(local, ["r1"]);
    const s = group.stats();
    assert.equal(s.peerErrors, 1);
    assert.equal(s.peerLoads, 0);
    assert.equal(s.localLoads, 1);
    assert.equal(s.loadsDeduped, 1);
    // The local load populated the main cache.
    await group.get("r1");
    assert.equal(peer.calls.length, 1);
    assert.equal(group.stats().cacheHits, 1);
  });

  it("falls back when a peer that never answers passes peerTimeoutMs", async () => {
    let peerSignal: AbortSignal | undefined;
    const peer = fakePeer("slow", (_req, signal) => {
      peerSignal = signal;
      return new Promise(() => {});
    });
    const { group } = setup(peer, { peerTimeoutMs: 1 });
    assert.equal((await group.get("r1")).toString(), "local:r1");
    assert.equal(peerSignal!.aborted, true);
    assert.equal(group.stats().peerErrors, 1);
  });

  it("takes the owner's LOAD_FAILED as final: no local load asks the failing source again", async () => {
    const boom = new GeeCacheError("LOAD_FAILED", "loading the key from the source failed");
    const peer = fakePeer("p", () => Promise.reject(boom));
    const { group, local } = setup(peer);
    await assert.rejects(
      group.get("r1"),
      (e) =>
        isCode("LOAD_FAILED")(e) &&
        (e as Error).cause === boom &&
        /owner p/.test((e as Error).message),
    );
    assert.deepEqual(local, []);
    const s = group.stats();
    assert.equal(s.peerErrors, 0);
    assert.equal(s.localLoads, 0);
    // Not remembered: the next get asks the owner again.
    await assert.rejects(group.get("r1"), isCode("LOAD_FAILED"));
    assert.equal(peer.calls.length, 2);
  });

  it("takes the owner's INVALID_ARGUMENT as final: its source cannot be asked for the key", async () => {
    const peer = fakePeer("p", () =>
      Promise.reject(new GeeCacheError("INVALID_ARGUMENT", "not a path segment")),
    );
    const { group, local } = setup(peer);
    await assert.rejects(group.get("r1"), isCode("INVALID_ARGUMENT"));
    assert.deepEqual(local, []);
    assert.equal(group.stats().peerErrors, 0);
  });

  it("treats NOT_FOUND from the owner as not found: no local load, negative-cached", async () => {
    const peer = fakePeer("p", () => Promise.reject(new GeeCacheError("NOT_FOUND", "no such key")));
    const { group, local, advance } = setup(peer, { negativeTtlMs: 100 });
    await assert.rejects(group.get("r1"), isCode("NOT_FOUND"));
    await assert.rejects(group.get("r1"), isCode("NOT_FOUND"));
    assert.deepEqual(local, []);
    assert.equal(peer.calls.length, 1);
    advance(100);
    await assert.rejects(group.get("r1"), isCode("NOT_FOUND"));
    assert.equal(peer.calls.length, 2);
    const s = group.stats();
    assert.equal(s.peerErrors, 0);
    assert.equal(s.notFound, 2);
    assert.equal(s.negativeHits, 1);
  });

  it("answers a forwarded request (fromPeer) locally, never forwarding it again", async () => {
    const peer = owner();
    const { group, local } = setup(peer);
    assert.equal((await group.get("r1", { fromPeer: true })).toString(), "local:r1");
    assert.equal(peer.calls.length, 0);
    assert.deepEqual(local, ["r1"]);
    const s = group.stats();
    assert.equal(s.serverRequests, 1);
    assert.equal(s.loadsDeduped, 1);
    assert.equal(s.mainCache.items, 1);
  });

  it("dedupes 1,000 concurrent gets of a remote key into one peer call", async () => {
    const gate = deferred<void>();
    const peer = fakePeer("p", async (req) => {
      await gate.promise;
      return { value: new TextEncoder().encode(req.key) };
    });
    const { group } = setup(peer);
    const gets = Array.from({ length: 1000 }, () => group.get("rk"));
    await tick();
    gate.resolve();
    await Promise.all(gets);
    assert.equal(peer.calls.length, 1);
    assert.equal(group.stats().peerLoads, 1);
  });

  it("keeps a shared peer call going while one waiter remains, cancels it when none does", async () => {
    const gate = deferred<void>();
    let peerSignal: AbortSignal | undefined;
    const peer = fakePeer("p", async (req, signal) => {
      peerSignal = signal;
      await gate.promise;
      return { value: new TextEncoder().encode(req.key) };
    });
    const { group, local } = setup(peer);
    const c1 = new AbortController();
    const c2 = new AbortController();
    const a = group.get("r1", { signal: c1.signal });
    const b = group.get("r1", { signal: c2.signal });
    await tick();
    c1.abort();
    await assert.rejects(a, isCode("CANCELED"));
    assert.equal(peerSignal!.aborted, false);
    c2.abort();
    await assert.rejects(b, isCode("CANCELED"));
    assert.equal(peerSignal!.aborted, true);
    // A cancelled flight is not a peer error and does not fall back to a local load.
    gate.resolve();
    await tick();
    assert.equal(group.stats().peerErrors, 0);
    assert.deepEqual(local, []);
  });

  it("carries the owner's expiry into the hot cache", async () => {
    const t = { now: 0 };
    let n = 0;
    const peer = fakePeer("p", async () => ({
      value: new TextEncoder().encode(`v${++n}`),
      expiresAtMs: t.now + 50,
    }));
    const s = setup(peer);
    t.now = s.now();
    const v = await s.group.get("r1");
    assert.equal(v.expiresAtMs, t.now + 50);
    assert.equal((await s.group.get("r1")).toString(), "v1");
    s.advance(50);
    t.now = s.now();
    assert.equal((await s.group.get("r1")).toString(), "v2");
    assert.equal(peer.calls.length, 2);
  });

  it("does not cache a value that arrives already expired", async () => {
    const peer = fakePeer("p", async () => ({ value: new Uint8Array([1]), expiresAtMs: 0 }));
    const { group } = setup(peer);
    assert.equal((await group.get("r1")).byteLength, 1);
    await group.get("r1");
    assert.equal(peer.calls.length, 2);
  });

  it("follows a membership change without restarting: registry.setPeers", async () => {
    const a = owner("a");
    const b = owner("b");
    const { registry, group } = setup(a, { hotCacheFraction: 0 });
    await group.get("r1");
    registry.setPeers(prefixPicker(b));
    await group.get("r2");
    assert.equal(a.calls.length, 1);
    assert.equal(b.calls.length, 1);
  });

  it("uses a group's own picker over the registry's", async () => {
    const a = owner("a");
    const b = owner("b");
    const { group } = setup(a, { peers: prefixPicker(b) });
    await group.get("r1");
    assert.equal(a.calls.length, 0);
    assert.equal(b.calls.length, 1);
  });

  it("splits maxBytes between the caches by hotCacheFraction", async () => {
    // maxBytes 80, fraction 1/4: hot cache 20 bytes = two entries of 2 + 8 bytes.
    const peer = fakePeer("p", async () => ({ value: new Uint8Array(8) }));
    const { group } = setup(peer, { maxBytes: 80, hotCacheFraction: 0.25 });
    for (const k of ["r1", "r2", "r3", "r4"]) await group.get(k);
    const s = group.stats();
    assert.equal(s.hotCache.items, 2);
    assert.equal(s.hotCache.bytes, 20);
    assert.equal(s.hotCache.evictions, 2);
    for (let i = 0; i < 10; i++) await group.get(`k${i}`);
    const after = group.stats();
    assert.ok(after.mainCache.bytes <= 60, `main holds ${after.mainCache.bytes}`);
    assert.equal(after.mainCache.evictions > 0, true);
  });
});

describe("Group with a RingPeerPicker", () => {
  it("follows setPeers on the ring without restarting anything", async () => {
    const created = new Map<string, FakePeer>();
    const peers = createRingPeerPicker({
      self: "n:20",
      replicas: 1,
      // "<addr>#0" hashes to the number ending the address, "k<n>" to n.
      hash: (s) => Number(/(\d+)(#0)?$/.exec(s)?.[1] ?? 0),
      // These fakes answer any get, cacheOnly or not; hand-off has tests of its own.
      handoffWindowMs: 0,
      createPeer: (address) => {
        const p = owner(address);
        created.set(address, p);
        return p;
      },
    });
    const registry = createRegistry({ peers });
    const group = registry.newGroup({
      name: "g",
      maxBytes: 1000,
      hotCacheFraction: 0,
      getter: () => "local",
    });
    peers.setPeers(["n:10", "n:20"]);
    assert.equal((await group.get("k5")).toString(), "remote:k5"); // n:10 owns k5
    assert.equal((await group.get("k15")).toString(), "local"); // self owns k15
    peers.setPeers(["n:20"]); // n:10 left: self owns everything
    assert.equal((await group.get("k6")).toString(), "local");
    peers.setPeers(["n:20", "n:30"]); // n:30 joined: it owns k25
    assert.equal((await group.get("k25")).toString(), "remote:k25");
    assert.equal(created.get("n:10")!.calls.length, 1);
    assert.equal(created.get("n:30")!.calls.length, 1);
  });

  it("stops waiting on a peer that hangs: after 3 timeouts its keys load here at once", async () => {
    const hung = fakePeer(
      "n:10",
      (_req, signal) =>
        new Promise((_resolve, reject) => {
          signal?.addEventListener("abort", () => reject(signal.reason));
        }),
    );
    const peers = createRingPeerPicker({
      self: "n:20",
      replicas: 1,
      hash: (s) => Number(/(\d+)(#0)?$/.exec(s)?.[1] ?? 0),
      createPeer: () => hung,
    });
    peers.setPeers(["n:10", "n:20"]);
    const registry = createRegistry({ peers });
    const group = registry.newGroup({
      name: "g",
      maxBytes: 1000,
      peerTimeoutMs: 20,
      getter: (key) => `local:${key}`,
    });
    // n:10 owns k1..k10; each of the first three waits out the peer deadline, then loads here.
    for (const key of ["k1", "k2", "k3"])
      assert.equal((await group.get(key)).toString(), `local:${key}`);
    assert.equal(hung.calls.length, 3);
    assert.deepEqual(peers.downPeers(), ["n:10"]);
    for (const key of ["k4", "k5", "k6"])
      assert.equal((await group.get(key)).toString(), `local:${key}`);
    assert.equal(hung.calls.length, 3, "a peer out of use is not asked");
    const s = group.stats();
    assert.equal(s.peerErrors, 3);
    assert.equal(s.localLoads, 6);
  });

  it("a caller's own deadline does not count against the peer", async () => {
    // A healthy peer that takes 30 ms; callers that give up after 2 ms.
    const slow = fakePeer(
      "n:10",
      (req, signal) =>
        new Promise((resolve, reject) => {
          const t = setTimeout(
            () => resolve({ value: new TextEncoder().encode(`remote:${req.key}`) }),
            30,
          );
          signal?.addEventListener("abort", () => {
            clearTimeout(t);
            reject(signal.reason);
          });
        }),
    );
    const peers = createRingPeerPicker({
      self: "n:20",
      replicas: 1,
      hash: (s) => Number(/(\d+)(#0)?$/.exec(s)?.[1] ?? 0),
      createPeer: () => slow,
    });
    peers.setPeers(["n:10", "n:20"]);
    const group = createRegistry({ peers }).newGroup({
      name: "g",
      maxBytes: 1000,
      peerTimeoutMs: 5_000,
      getter: (key) => `local:${key}`,
    });
    // n:10 owns k1..k10. The callers' deadlines reach them as DEADLINE_EXCEEDED...
    for (const key of ["k1", "k2", "k3"]) {
      await assert.rejects(
        group.get(key, { signal: AbortSignal.timeout(2) }),
        isCode("DEADLINE_EXCEEDED"),
      );
    }
    // ...but the peer stays in use and answers a caller that waits.
    assert.deepEqual(peers.downPeers(), []);
    assert.equal((await group.get("k4")).toString(), "remote:k4");
    assert.equal(group.stats().peerErrors, 0);
  });

  it("logs a peer failure at debug level through the registry's logger", async () => {
    const lines: { obj: object; msg?: string }[] = [];
    const log = (obj: object, msg?: string) => lines.push({ obj, msg });
    const registry = createRegistry({
      peers: prefixPicker(fakePeer("down")),
      logger: { debug: log, info: log, warn: log, error: log },
    });
    const group = registry.newGroup({ name: "g", maxBytes: 1000, getter: () => "v" });
    await group.get("r1");
    assert.equal(lines.length, 1);
    assert.match(lines[0]!.msg!, /peer fetch failed/);
    assert.equal((lines[0]!.obj as { peer: string }).peer, "down");
  });
});

describe("hand-off from a key's previous owner", () => {
  // A previous owner that holds "cached" (expiring at `expires`) and nothing else, recording
  // how it was asked; "new" keys have no previous owner.
  function handoffSetup(
    answer?: () => Promise<PeerGetResponse>,
    overrides: Partial<GroupOptions> = {},
  ) {
    const asked: { key: string; cacheOnly: boolean | undefined }[] = [];
    const previous: PeerGetter = {
      id: "old-owner",
      get(req, options) {
        asked.push({ key: req.key, cacheOnly: options?.cacheOnly });
        if (answer !== undefined) return answer();
        if (req.key === "cached") {
          return Promise.resolve({ value: new TextEncoder().encode("old:cached") });
        }
        return Promise.reject(new GeeCacheError("NOT_FOUND", "not cached"));
      },
    };
    const local: string[] = [];
    const registry = createRegistry({
      peers: {
        pickPeer: () => undefined, // this node owns every key
        previousOwner: (key) => (key.startsWith("new") ? undefined : previous),
      },
    });
    const group = registry.newGroup({
      name: "g",
      maxBytes: 1 << 20,
      getter: (key) => {
        local.push(key);
        return `local:${key}`;
      },
      ...overrides,
    });
    return { group, asked, local };
  }

  it("takes a value still cached at the previous owner instead of loading it", async () => {
    const { group, asked, local } = handoffSetup();
    assert.equal((await group.get("cached")).toString(), "old:cached");
    assert.equal((await group.get("cached")).toString(), "old:cached"); // now cached here
    assert.deepEqual(asked, [{ key: "cached", cacheOnly: true }]);
    assert.deepEqual(local, []);
    // Not cached there: loaded here. No previous owner: not asked.
    assert.equal((await group.get("other")).toString(), "local:other");
    assert.equal((await group.get("new-1")).toString(), "local:new-1");
    assert.deepEqual(asked, [
      { key: "cached", cacheOnly: true },
      { key: "other", cacheOnly: true },
    ]);
    assert.deepEqual(local, ["other", "new-1"]);
    const s = group.stats();
    assert.equal(s.handoffs, 1);
    assert.equal(s.localLoads, 2);
    assert.equal(s.peerLoads, 0);
  });

  it("a previous owner that fails or does not answer in time costs the load, not the request", async () => {
    const failing = handoffSetup(() => Promise.reject(new GeeCacheError("UNAVAILABLE", "down")));
    assert.equal((await failing.group.get("cached")).toString(), "local:cached");
    const hanging = handoffSetup(() => new Promise(() => {}), { peerTimeoutMs: 20 });
    assert.equal((await hanging.group.get("cached")).toString(), "local:cached");
    assert.equal(hanging.group.stats().handoffs, 0);
  });

  it("a value that expired at the previous owner is loaded afresh", async () => {
    const { group, local } = handoffSetup(async () => ({
      value: new TextEncoder().encode("stale"),
      expiresAtMs: Date.now() - 1,
    }));
    assert.equal((await group.get("cached")).toString(), "local:cached");
    assert.deepEqual(local, ["cached"]);
  });

  it("the hand-off takes at most a quarter of loadTimeoutMs (and 500 ms), so the load still fits", async () => {
    const hanging = handoffSetup(() => new Promise(() => {}), { loadTimeoutMs: 400 });
    assert.equal((await hanging.group.get("cached")).toString(), "local:cached");
    const started = performance.now();
    const capped = handoffSetup(() => new Promise(() => {}), { peerTimeoutMs: 60_000 });
    assert.equal((await capped.group.get("cached")).toString(), "local:cached");
    assert.ok(performance.now() - started < 2_000);
  });

  it("a caller that leaves during the hand-off leaves no load behind", async () => {
    const { group, local } = handoffSetup(() => new Promise(() => {}), { peerTimeoutMs: 60_000 });
    const caller = new AbortController();
    const pending = group.get("cached", { signal: caller.signal });
    await tick();
    caller.abort();
    await assert.rejects(pending, isCode("CANCELED"));
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(local, []);
  });

  it("a picker whose previousOwner throws costs a warning, not the load", async () => {
    const warnings: unknown[] = [];
    const registry = createRegistry({
      peers: {
        pickPeer: () => undefined,
        previousOwner: () => {
          throw new Error("picker bug");
        },
      },
      logger: {
        debug() {},
        info() {},
        warn: (obj: unknown) => void warnings.push(obj),
        error() {},
      },
    });
    const group = registry.newGroup({ name: "g", maxBytes: 1 << 10, getter: (k) => `local:${k}` });
    assert.equal((await group.get("k")).toString(), "local:k");
    assert.equal(warnings.length, 1);
  });

  it("get with cacheOnly answers from the caches only: never a load or a peer", async () => {
    const peer = owner();
    const { group, local } = setup(peer);
    await assert.rejects(group.get("x", { cacheOnly: true }), isCode("NOT_FOUND"));
    await assert.rejects(group.get("r1", { cacheOnly: true }), isCode("NOT_FOUND"));
    assert.deepEqual(local, []);
    assert.deepEqual(peer.calls, []);
    await group.get("x");
    assert.equal((await group.get("x", { cacheOnly: true })).toString(), "local:x");
    // Counted apart: the gets and hits are the node's own traffic.
    const s = group.stats();
    assert.equal(s.loads, 1);
    assert.equal(s.gets, 1);
    assert.equal(s.cacheHits, 0);
    assert.equal(s.handoffRequests, 3);
  });
});
