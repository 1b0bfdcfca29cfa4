import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { createRingPeerPicker, type PeerGetter } from "@geecache/core";
import type { PolicyName } from "@geecache/policies";
import { buildNodeApp } from "./build-app.ts";

// A ring of this node alone: every key is its own, so no peer is ever asked.
function soloPicker() {
  return createRingPeerPicker({
    self: "127.0.0.1:1",
    createPeer: (address): PeerGetter => ({
      id: address,
      get: () => Promise.reject(new Error("single-node test has no peers")),
      close: async () => {},
    }),
  });
}

// A one-node app whose main cache holds exactly two of the 10-byte entries below
// (key "k1" is 2 bytes, each value 8), so the third distinct key evicts one.
function oneNode(policy?: PolicyName) {
  const loads: string[] = [];
  const picker = soloPicker();
  picker.setPeers(["127.0.0.1:1"]);
  const app = buildNodeApp({
    self: "127.0.0.1:1",
    groups: ["g"],
    cacheBytes: 20,
    hotCacheFraction: 0,
    getter: (key) => {
      loads.push(key);
      return { value: `value-${key}` };
    },
    picker,
    ...(policy === undefined ? {} : { policy }),
  });
  const get = (key: string) => app.registry.mustGet("g").get(key);
  return { app, get, loads };
}

// k1, k2, then a hit on k1, then k3: LRU evicts k2 (least recently used) and keeps k1; FIFO
// evicts k1 (first in), whatever the hit.
async function keepsHitKey(policy?: PolicyName): Promise<boolean> {
  const { app, get, loads } = oneNode(policy);
  for (const key of ["k1", "k2", "k1", "k3"]) await get(key);
  assert.deepEqual(loads, ["k1", "k2", "k3"]);
  await get("k1");
  await app.close();
  return loads.length === 3;
}

test("the node's groups evict by the configured policy, LRU by default", async () => {
  assert.equal(await keepsHitKey(), true);
  assert.equal(await keepsHitKey("lru"), true);
  assert.equal(await keepsHitKey("fifo"), false);
});

test("/stats names the policy", async () => {
  for (const [policy, shown] of [
    ["arc", "arc"],
    [undefined, "lru"],
  ] as const) {
    const { app } = oneNode(policy);
    assert.equal(app.stats().policy, shown);
    await app.close();
  }
});

test("GET /metrics gives the groups' and caches' counters in Prometheus' text format", async (t) => {
  const { app, get } = oneNode();
  for (const key of ["k1", "k2", "k1", "k3"]) await get(key);
  const server = createServer((req, res) => {
    if (!app.http(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    server.close();
    await app.close();
  });
  const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const body = await res.text();
  const lines = body.trimEnd().split("\n");
  for (const line of [
    'geecache_node_info{id="127.0.0.1:1",policy="lru"} 1',
    "geecache_peers 1",
    "geecache_peers_down 0",
    'geecache_group_gets_total{group="g"} 4',
    'geecache_group_cache_hits_total{group="g"} 1',
    'geecache_group_loads_total{group="g"} 3',
    'geecache_group_local_loads_total{group="g"} 3',
    'geecache_cache_items{group="g",cache="main"} 2',
    'geecache_cache_bytes{group="g",cache="main"} 20',
    'geecache_cache_evictions_total{group="g",cache="main"} 1',
    'geecache_cache_items{group="g",cache="hot"} 0',
  ]) {
    assert.ok(lines.includes(line), `missing ${line}`);
  }
  // Every sample belongs to a family announced once, with its HELP and TYPE first.
  const typed = new Map<string, string>();
  for (const line of lines) {
    const m = /^# TYPE (\w+) (counter|gauge)$/.exec(line);
    if (m !== null) {
      assert.ok(!typed.has(m[1]!), `${m[1]} announced twice`);
      typed.set(m[1]!, m[2]!);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const sample = /^(\w+)(\{[^}]*\})? (-?[\d.e+]+)$/.exec(line);
    assert.ok(sample !== null, `not a sample: ${line}`);
    assert.ok(typed.has(sample[1]!), `${sample[1]} has no TYPE`);
    if (typed.get(sample[1]!) === "counter") assert.match(sample[1]!, /_total$/);
  }
});

test("loadTimeoutMs reaches the groups: a load is cut off at it, not at core's 10 s", async () => {
  const picker = soloPicker();
  const app = buildNodeApp({
    self: "127.0.0.1:1",
    groups: ["g"],
    cacheBytes: 1024,
    // Answers only when its signal aborts, as the HTTP origin does at its deadline.
    getter: (_key, { signal }) =>
      new Promise((_resolve, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason)),
      ),
    picker,
    loadTimeoutMs: 50,
  });
  const started = performance.now();
  await assert.rejects(app.registry.mustGet("g").get("slow"), {
    code: "DEADLINE_EXCEEDED",
    message: /took over 50 ms/,
  });
  assert.ok(performance.now() - started < 5_000);
  await app.close();
});
