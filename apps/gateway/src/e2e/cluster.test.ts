// End to end: three real node processes and a real gateway on loopback ports, static membership.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { CacheService } from "@geecache/proto";
import { freePorts } from "@geecache/testkit";
import {
  type Cluster,
  connectGetUrl,
  loadsOf,
  nodeStats,
  ownerIn,
  startCluster,
  startGateway,
} from "./cluster.ts";

const table: Record<string, string> = {
  Tom: "630",
  Jack: "589",
  Sam: "567",
  Alice: "702",
  Bob: "498",
  Zoë: "🏆 731",
};

let cluster: Cluster;
/** The owner of a key by the same rule every node uses: the ring of advertised addresses. */
let ownerOf: (key: string) => string;

before(async () => {
  cluster = await startCluster({
    nodeArgs: ["--groups", "scores,burst,spread", "--demo-delay", "300ms", "--policy", "arc"],
    gatewayArgs: ["--timeout", "2s"],
  });
  ownerOf = (key) => ownerIn(cluster.addresses, key);
});

after(() => cluster?.stop());

const api = (path: string, init?: RequestInit) =>
  fetch(`${cluster.gatewayUrl}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });

test("every key of the demo table answers through the gateway, loaded once in the whole cluster, by its owner", async () => {
  for (const [key, value] of Object.entries(table)) {
    const res = await api(`/api?key=${encodeURIComponent(key)}`);
    assert.equal(res.status, 200, key);
    assert.equal(res.headers.get("content-type")?.startsWith("application/json"), true);
    assert.deepEqual(await res.json(), { key, group: "scores", value });
  }
  const blob = await api("/api?key=Blob");
  assert.deepEqual(await blob.json(), {
    key: "Blob",
    group: "scores",
    value: Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x47]).toString("base64"),
    encoding: "base64",
  });

  // Again, through every node directly as well: all answered from caches, no new loads.
  for (const key of [...Object.keys(table), "Blob"]) {
    assert.equal((await api(`/api?key=${encodeURIComponent(key)}`)).status, 200);
    for (const a of cluster.addresses) {
      const res = await fetch(connectGetUrl(a, key));
      assert.equal(res.status, 200, `${a} ${key}`);
    }
    assert.deepEqual(await loadsOf(cluster.addresses, key), { [ownerOf(key)]: 1 }, key);
  }
  // The keys spread over more than one owner (else the test above proves little).
  const owners = new Set([...Object.keys(table), "Blob"].map(ownerOf));
  assert.ok(owners.size >= 2, `owners: ${[...owners].join(", ")}`);
  // The nodes run the --policy they were given (ARC here; LRU is the default).
  for (const a of cluster.addresses) assert.equal((await nodeStats(a)).policy, "arc", a);
});

test("200 concurrent requests for one cold key through the gateway cost one load, and a few calls to its owner", async () => {
  const before = await loadsOf(cluster.addresses, "Sam");
  const owner = ownerOf("Sam");
  const getsBefore = Number((await nodeStats(owner)).groups.burst?.gets ?? 0);
  const lookupsBefore = await metric(cluster.gatewayUrl, "geecache_gateway_lookups_total");
  const callsBefore = await metric(cluster.gatewayUrl, "geecache_gateway_shared_calls_total");
  const answers = await Promise.all(
    Array.from({ length: 200 }, () => api("/api?key=Sam&group=burst").then((r) => r.json())),
  );
  for (const a of answers) assert.deepEqual(a, { key: "Sam", group: "burst", value: "567" });
  const afterLoads = await loadsOf(cluster.addresses, "Sam");
  assert.equal((afterLoads[owner] ?? 0) - (before[owner] ?? 0), 1);
  assert.deepEqual(Object.keys(afterLoads), [owner]);
  // The gateway folds concurrent requests for a key into one call: the owner saw one get per
  // request that found no call in flight (one arriving after the load ended makes its own), not
  // one per request.
  const gets = Number((await nodeStats(owner)).groups.burst?.gets ?? 0) - getsBefore;
  assert.ok(gets >= 1 && gets <= 10, `the owner got ${gets} gets for 200 requests`);
  // Both processes' /metrics say the same.
  const lookups =
    (await metric(cluster.gatewayUrl, "geecache_gateway_lookups_total")) - lookupsBefore;
  const calls =
    (await metric(cluster.gatewayUrl, "geecache_gateway_shared_calls_total")) - callsBefore;
  assert.equal(lookups, 200);
  assert.equal(calls, gets);
  assert.equal(
    await metric(`http://${owner}`, 'geecache_group_gets_total{group="burst"}'),
    getsBefore + gets,
  );
});

/** The value of one sample in a process's /metrics. */
async function metric(baseUrl: string, series: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  assert.ok(line !== undefined, `${series} not in ${baseUrl}/metrics`);
  return Number(line.slice(series.length + 1));
}

test("200 concurrent requests for one cold key spread over all nodes cost one load in the cluster", async () => {
  const before = await loadsOf(cluster.addresses, "Jack");
  const clients = cluster.addresses.map((a) =>
    createClient(CacheService, createGrpcTransport({ baseUrl: `http://${a}` })),
  );
  const values = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      clients[i % clients.length]!.get({ group: "spread", key: "Jack" }).then((r) =>
        Buffer.from(r.value).toString(),
      ),
    ),
  );
  assert.deepEqual(new Set(values), new Set(["589"]));
  const afterLoads = await loadsOf(cluster.addresses, "Jack");
  const owner = ownerOf("Jack");
  assert.equal((afterLoads[owner] ?? 0) - (before[owner] ?? 0), 1);
  assert.deepEqual(Object.keys(afterLoads), [owner]);
  // Non-owners fetched from the owner rather than loading.
  const stats = await Promise.all(cluster.addresses.map(nodeStats));
  const peerLoads = stats
    .filter((s) => s.id !== owner)
    .map((s) => Number(s.groups.spread?.peerLoads ?? 0));
  assert.ok(
    peerLoads.every((n) => n >= 1),
    `peer loads on non-owners: ${peerLoads}`,
  );
});

test("a gateway whose member list lags still costs one load: the node it asks routes the key to its owner", async () => {
  // As during a join: this gateway has not yet heard of the key's owner.
  const key = "Alice";
  const owner = ownerOf(key);
  const [port] = await freePorts(1);
  const lagging = await startGateway(port!, [
    "--peers",
    cluster.addresses.filter((a) => a !== owner).join(","),
  ]);
  try {
    const before = await loadsOf(cluster.addresses, key);
    const res = await fetch(`http://127.0.0.1:${port}/api?key=${key}&group=burst`, {
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { key, group: "burst", value: table[key] });
    const afterLoads = await loadsOf(cluster.addresses, key);
    const delta = Object.fromEntries(
      Object.entries(afterLoads)
        .map(([a, n]) => [a, n - (before[a] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    );
    assert.deepEqual(delta, { [owner]: 1 });
  } finally {
    await lagging.stop();
  }
});

test("one Get over gRPC, Connect JSON on HTTP/1.1 and Connect GET gives the same value", async () => {
  const a = cluster.addresses[0]!;
  const grpc = createClient(CacheService, createGrpcTransport({ baseUrl: `http://${a}` }));
  const viaGrpc = await grpc.get({ group: "scores", key: "Tom" });
  assert.equal(Buffer.from(viaGrpc.value).toString(), "630");

  const post = await fetch(`http://${a}/geecache.v1.CacheService/Get`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ group: "scores", key: "Tom" }),
  });
  assert.equal(post.status, 200);
  const json = (await post.json()) as { value: string };
  assert.equal(Buffer.from(json.value, "base64").toString(), "630");

  const message = encodeURIComponent(JSON.stringify({ group: "scores", key: "Tom" }));
  const get = await fetch(
    `http://${a}/geecache.v1.CacheService/Get?connect=v1&encoding=json&message=${message}`,
  );
  assert.equal(get.status, 200);
  assert.equal(
    Buffer.from(((await get.json()) as { value: string }).value, "base64").toString(),
    "630",
  );
});

test("bad input to the gateway is a 4xx with a JSON error, and the gateway stays up", async () => {
  const cases: [string, number, string][] = [
    ["/api", 400, "INVALID_ARGUMENT"],
    ["/api?key=", 400, "INVALID_ARGUMENT"],
    [`/api?key=${"k".repeat(2000)}`, 400, "INVALID_ARGUMENT"],
    ["/api?key=Tom&group=nope", 404, "UNKNOWN_GROUP"],
    ["/api?key=Nobody", 404, "NOT_FOUND"],
    ["/api?key=Tom&grup=scores", 400, "INVALID_ARGUMENT"],
    ["/nope", 404, "ROUTE_NOT_FOUND"],
  ];
  for (const [path, status, code] of cases) {
    const res = await api(path);
    assert.equal(res.status, status, path);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, code, path);
    assert.equal(typeof body.error.message, "string");
    assert.doesNotMatch(JSON.stringify(body), /at .*\.js:\d+/, "no stack trace");
  }
  const post = await api("/api?key=Tom", { method: "POST", body: "{" });
  assert.ok(post.status >= 400 && post.status < 500, `POST: ${post.status}`);
  assert.equal((await api("/healthz")).status, 200);
});

test("bad input to a node's RPC port gets Connect error codes, and the node stays up", async () => {
  const a = cluster.addresses[1]!;
  const url = `http://${a}/geecache.v1.CacheService/Get`;
  const post = (body: string, contentType = "application/json") =>
    fetch(url, { method: "POST", headers: { "content-type": contentType }, body });

  const malformed = await post("{not json");
  assert.equal(malformed.status, 400);
  assert.equal(((await malformed.json()) as { code: string }).code, "invalid_argument");

  const wrongType = await post("group=scores&key=Tom", "application/x-www-form-urlencoded");
  assert.equal(wrongType.status, 415);

  const huge = await post(JSON.stringify({ group: "scores", key: "k".repeat(5000) }));
  assert.equal(huge.status, 400);
  assert.equal(((await huge.json()) as { code: string }).code, "invalid_argument");

  const unknown = await fetch(`http://${a}/geecache.v1.CacheService/Nope`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(unknown.status, 404);

  const health = await fetch(`http://${a}/healthz`);
  assert.equal(health.status, 200);
});

test("a node that hangs (SIGSTOP) costs a few requests their deadline, then is skipped until it answers again", async () => {
  const victim = cluster.addresses[1]!;
  const survivor = cluster.addresses[0]!;
  const victimProcess = cluster.nodes[1]!;
  const keys = Array.from({ length: 400 }, (_, i) => `Stop${i}`).filter(
    (k) => ownerOf(k) === victim,
  );
  assert.ok(keys.length >= 12);
  victimProcess.child.kill("SIGSTOP");
  try {
    // Through the gateway: the owner first, whose calls now run out the gateway's deadline (504),
    // until the breaker takes it out of use; then the next node answers (404: not in the table).
    const statuses: number[] = [];
    for (const key of keys.slice(0, 8)) statuses.push((await api(`/api?key=${key}`)).status);
    assert.ok(statuses.filter((s) => s === 504).length <= 3, statuses.join(","));
    assert.deepEqual(statuses.slice(3), [404, 404, 404, 404, 404], statuses.join(","));
    const health = (await (await api("/healthz")).json()) as { down: string[] };
    assert.deepEqual(health.down, [victim]);

    // A node asked directly does the same: it waits out its peer deadline a few times (until
    // the owner's health check has gone unanswered too), loading the keys itself, then stops
    // asking the hung owner.
    const get = (key: string) =>
      fetch(connectGetUrl(survivor, key), { signal: AbortSignal.timeout(10_000) });
    for (const key of keys.slice(8, 12)) assert.equal((await get(key)).status, 404, key);
    const stats = await nodeStats(survivor);
    assert.deepEqual(stats.downPeers, [victim]);
    const peerErrors = stats.groups.scores!.peerErrors as number;
    assert.ok(peerErrors >= 1 && peerErrors <= 3, `peerErrors ${peerErrors}`);
  } finally {
    victimProcess.child.kill("SIGCONT");
  }
  // Back: the next background probe (the cooldown doubles per failed probe, so within seconds
  // here; 30 s at most) finds it serving, and it is in use again, by the gateway and the node.
  const downs = async () => [
    ...((await (await api("/healthz")).json()) as { down: string[] }).down,
    ...(await nodeStats(survivor)).downPeers,
  ];
  let down = await downs();
  for (let i = 0; i < 140 && down.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 250));
    down = await downs();
  }
  assert.deepEqual(down, []);
  const before = (await nodeStats(victim)).groups.scores!.gets as number;
  assert.equal((await api(`/api?key=${keys[0]}`)).status, 404);
  assert.equal((await nodeStats(victim)).groups.scores!.gets, before + 1);
});

// Last: it kills a node.
test("keys slow to load do not take healthy nodes out of use: the deadline ran out on the load, not the node", async () => {
  // Every lookup takes 3 s; the gateway and the nodes give up on a call after 1 s. Anyone who
  // knows a slow key could otherwise make healthy nodes look hung.
  const slow = await startCluster({
    nodes: 2,
    nodeArgs: ["--demo-delay", "3s", "--peer-timeout", "1s"],
    gatewayArgs: ["--timeout", "1s"],
  });
  try {
    const keys = Array.from({ length: 8 }, (_, i) => `slow-${i}`);
    const statuses = await Promise.all(
      keys.map(async (key) => (await fetch(`${slow.gatewayUrl}/api?key=${key}`)).status),
    );
    assert.deepEqual(statuses, Array(8).fill(504));
    // A node asked for keys it does not own waits for the owner: its calls run out too.
    const [a, b] = slow.addresses as [string, string];
    await Promise.all(
      keys.map((key) =>
        fetch(connectGetUrl(a, `node-${key}`), { signal: AbortSignal.timeout(10_000) }),
      ),
    );
    // Once the health checks those calls started have answered: no node was ever taken out
    // (each process logs it when it does), and none is out now.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (const process of [slow.gateway, ...slow.nodes]) {
      const takenOut = process.lines().filter((l) => l.includes("peer keeps failing"));
      assert.deepEqual(takenOut, []);
    }
    const health = (await (await fetch(`${slow.gatewayUrl}/healthz`)).json()) as {
      down: string[];
    };
    assert.deepEqual(health.down, []);
    assert.deepEqual((await nodeStats(a)).downPeers, []);
    assert.deepEqual((await nodeStats(b)).downPeers, []);
  } finally {
    await slow.stop();
  }
});

test("a node killed with SIGKILL: its keys fall back or answer 503 within the deadline; other keys keep working", async () => {
  const victim = cluster.addresses[2]!;
  const victimProcess = cluster.nodes[2]!;
  const keys = Array.from({ length: 16 }, (_, i) => `Tom${i}`);
  const victimKeys = keys.filter((k) => ownerOf(k) === victim);
  const otherKeys = keys.filter((k) => ownerOf(k) !== victim);
  assert.ok(victimKeys.length > 0 && otherKeys.length > 0);

  victimProcess.child.kill("SIGKILL");
  await victimProcess.exited;

  for (const key of victimKeys) {
    const started = performance.now();
    const res = await api(`/api?key=${key}`);
    const ms = performance.now() - started;
    // Not in the table: a fallback load answers 404 NOT_FOUND; no node at all would be 503.
    assert.ok([404, 503].includes(res.status), `${key}: ${res.status}`);
    const body = (await res.json()) as { error: { code: string } };
    assert.ok(["NOT_FOUND", "UNAVAILABLE"].includes(body.error.code), body.error.code);
    // The gateway's deadline is 2 s; a refused connection must not wait for it, let alone hang.
    assert.ok(ms < 2_000 + 1_000, `${key} took ${ms.toFixed(0)} ms`);
  }
  const tom = await api("/api?key=Tom");
  assert.equal(tom.status, 200);
  for (const key of otherKeys) {
    const res = await api(`/api?key=${key}`);
    assert.equal(res.status, 404, key);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "NOT_FOUND");
  }
  // The real table keys of the dead owner answer with their value, loaded by a survivor.
  for (const key of Object.keys(table).filter((k) => ownerOf(k) === victim)) {
    const res = await api(`/api?key=${encodeURIComponent(key)}`);
    assert.equal(res.status, 200, key);
    assert.equal(((await res.json()) as { value: string }).value, table[key]);
  }
});
