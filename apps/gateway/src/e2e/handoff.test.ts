// End to end: a node joins a running cluster (real etcd, node and gateway processes) and takes
// the keys it now owns from their previous owners' caches instead of loading them again from
// the source, an HTTP origin in this process that counts its loads per key.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type EtcdServer, startEtcd } from "@geecache/testkit";
import {
  type Cluster,
  nodeStats,
  type Origin,
  ownerIn,
  startCluster,
  startOrigin,
  waitForMembers,
} from "./cluster.ts";

let etcd: EtcdServer;
let cluster: Cluster;
let origin: Origin;

before(async () => {
  origin = await startOrigin();
  etcd = await startEtcd();
  cluster = await startCluster({
    nodes: 2,
    membershipArgs: ["--etcd", etcd.endpoint, "--cluster", "handoff"],
    nodeArgs: origin.sourceArgs,
  });
});

after(async () => {
  await cluster?.stop();
  await etcd?.stop();
  origin?.close();
});

async function getAll(keys: readonly string[]): Promise<void> {
  for (const key of keys) {
    const res = await fetch(`${cluster.gatewayUrl}/api?key=${key}`, {
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(res.status, 200, key);
    assert.equal(((await res.json()) as { value: string }).value, `v:${key}`);
  }
}

test("a node that joins takes the keys it now owns from their previous owners, not from the source", async () => {
  const keys = Array.from({ length: 60 }, (_, i) => `item-${i}`);
  await getAll(keys);
  assert.deepEqual(new Set(keys.map((k) => origin.loads.get(k))), new Set([1]));

  const { address } = await cluster.addNode();
  await waitForMembers(cluster, cluster.addresses, 3);
  const moved = keys.filter((k) => ownerIn(cluster.addresses, k) === address);
  assert.ok(moved.length > 0, "no key moved to the new node");

  await getAll(keys);
  // Every key still cost the source one load: the new owner took its share over.
  const twice = keys.filter((k) => origin.loads.get(k) !== 1);
  assert.deepEqual(twice, []);
  const stats = await nodeStats(address);
  assert.equal(stats.groups.scores?.handoffs, moved.length);
  assert.equal(stats.groups.scores?.localLoads, 0);
});
