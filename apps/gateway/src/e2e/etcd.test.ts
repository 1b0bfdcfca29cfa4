// End to end with etcd membership: a real etcd, real node processes that register under leases,
// and a real gateway that watches. Conditions are polled with deadlines, never slept for.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createEtcdDiscovery, type EtcdDiscovery } from "@geecache/discovery-etcd";
import { type EtcdServer, freePorts, startEtcd } from "@geecache/testkit";
import {
  type Cluster,
  connectGetUrl,
  loadsOf,
  nodeStats,
  ownerIn,
  startCluster,
  startGateway,
  waitFor,
  waitForMembers,
} from "./cluster.ts";

const LEASE_TTL_SEC = 3;
let etcd: EtcdServer;
let cluster: Cluster;
let observer: EtcdDiscovery;

before(async () => {
  etcd = await startEtcd();
  observer = createEtcdDiscovery({ endpoints: [etcd.endpoint], cluster: "e2e" });
  cluster = await startCluster({
    membershipArgs: ["--etcd", etcd.endpoint, "--cluster", "e2e"],
    nodeArgs: ["--lease-ttl", `${LEASE_TTL_SEC}s`, "--demo-delay", "100ms"],
  });
});

after(async () => {
  await cluster?.stop();
  await observer?.close();
  await etcd?.stop();
});

const api = (path: string) =>
  fetch(`${cluster.gatewayUrl}${path}`, { signal: AbortSignal.timeout(10_000) });

async function gatewayNodes(): Promise<number> {
  const body = (await (await api("/healthz")).json()) as { nodes: number };
  return body.nodes;
}

async function registered(): Promise<string[]> {
  return (await observer.list()).map((r) => r.address).sort();
}

test("three nodes register, see each other and the gateway routes each key to its owner", async () => {
  assert.deepEqual(await registered(), [...cluster.addresses].sort());
  await waitForMembers(cluster, cluster.addresses, 3, 10_000);
  for (const key of ["Tom", "Jack", "Sam", "Alice", "Bob"]) {
    assert.equal((await api(`/api?key=${key}`)).status, 200);
    assert.deepEqual(await loadsOf(cluster.addresses, key), {
      [ownerIn(cluster.addresses, key)]: 1,
    });
  }
});

test("a gateway started against a running cluster answers its first request", async () => {
  const [port] = await freePorts(1);
  const gateway = await startGateway(port!, ["--etcd", etcd.endpoint, "--cluster", "e2e"]);
  try {
    // The first request right after "listening": the member list was read before it.
    const res = await fetch(`http://127.0.0.1:${port}/api?key=Tom`, {
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(res.status, 200);
  } finally {
    await gateway.stop();
  }
});

test("a node that joins later is picked up by all nodes and the gateway, and keys route to it", async () => {
  const { address } = await cluster.addNode();
  await waitFor("every node to see 4 members", async () =>
    (await Promise.all(cluster.addresses.map(nodeStats))).every((s) => s.peers.includes(address)),
  );
  await waitFor("the gateway to see 4 nodes", async () => (await gatewayNodes()) === 4);
  // Keys that did not exist before, so none is cached anywhere: the new node's share loads there.
  const keys = Array.from({ length: 24 }, (_, i) => `joiner-${i}`);
  const mine = keys.filter((k) => ownerIn(cluster.addresses, k) === address);
  assert.ok(mine.length > 0);
  for (const key of mine) {
    assert.equal((await api(`/api?key=${key}`)).status, 404); // not in the table: NOT_FOUND
  }
  const stats = await nodeStats(address);
  assert.equal(stats.source.loads.missing, mine.length);
});

test("graceful leave is seen at once; SIGKILL drops the node within the lease TTL; its keys move", async () => {
  // Graceful: SIGTERM deletes the record and revokes the lease.
  const leaving = cluster.addresses[3]!;
  const t0 = performance.now();
  const exited = cluster.nodes[3]!.stop("SIGTERM");
  await waitFor(
    "the leaver's record to go",
    async () => !(await registered()).includes(leaving),
    2_000,
  );
  // Rings drop it only when their watch reports the deletion: meanwhile it still answers, new
  // connections included, rather than refuse the keys still routed to it.
  const late = await fetch(connectGetUrl(leaving, "Tom"), { signal: AbortSignal.timeout(5_000) });
  assert.equal(late.status, 200);
  assert.deepEqual(await exited, { code: 0, signal: null });
  await waitFor("the gateway to see 3 nodes", async () => (await gatewayNodes()) === 3, 2_000);
  const graceful = performance.now() - t0;
  assert.ok(graceful < LEASE_TTL_SEC * 1_000, `graceful leave took ${graceful.toFixed(0)} ms`);

  // Crash: the record lives until the lease expires.
  const victim = cluster.addresses[2]!;
  const victimKey = Array.from({ length: 30 }, (_, i) => `crash-${i}`).find(
    (k) => ownerIn(cluster.addresses.slice(0, 3), k) === victim,
  );
  assert.ok(victimKey !== undefined);
  cluster.nodes[2]!.child.kill("SIGKILL");
  const t1 = performance.now();
  await waitFor(
    "the crashed node's record to expire",
    async () => !(await registered()).includes(victim),
    LEASE_TTL_SEC * 1_000 + 1_000,
  );
  await waitFor("the gateway to drop it", async () => (await gatewayNodes()) === 2, 1_000);
  const crashed = performance.now() - t1;
  assert.ok(crashed <= LEASE_TTL_SEC * 1_000 + 2_000, `crash seen after ${crashed.toFixed(0)} ms`);

  const survivors = cluster.addresses.slice(0, 2);
  const missingBefore = (await nodeStats(ownerIn(survivors, victimKey))).source.loads.missing;
  const res = await api(`/api?key=${victimKey}`);
  assert.equal(res.status, 404); // not in the table; answered by the survivor that owns it now
  const missingAfter = (await nodeStats(ownerIn(survivors, victimKey))).source.loads.missing;
  assert.equal(missingAfter - missingBefore, 1);
});

test("etcd restarts (same data, then wiped): nodes keep serving and register again", async () => {
  const live = cluster.addresses.slice(0, 2).sort();
  await etcd.stop();
  // During the outage, membership is frozen and requests keep working.
  for (const key of ["Tom", "Jack", "Sam"])
    assert.equal((await api(`/api?key=${key}`)).status, 200);
  assert.equal(await gatewayNodes(), 2);

  await etcd.restart();
  await waitFor(
    "both nodes registered after the restart",
    async () => (await registered()).join() === live.join(),
    15_000,
  );
  assert.equal((await api("/api?key=Bob")).status, 200);

  await etcd.restart({ wipe: true });
  await waitFor(
    "both nodes registered in a fresh etcd",
    async () => (await registered()).join() === live.join(),
    20_000,
  );
  await waitFor("the gateway to follow the fresh etcd", async () => (await gatewayNodes()) === 2);
  assert.equal((await api("/api?key=Alice")).status, 200);
});
