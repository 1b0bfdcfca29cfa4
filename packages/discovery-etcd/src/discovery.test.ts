import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type EtcdServer, spawnProcess, startEtcd } from "@geecache/testkit";
import { Etcd3, EtcdLeaseInvalidError, type Lease } from "etcd3";
import { createEtcdDiscovery, type EtcdDiscovery } from "./discovery.ts";
import { DiscoveryError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { NodeRecord } from "./record.ts";
import type { RegistrationEvent } from "./registration.ts";

// Collects what a watcher hands over and lets a test wait for a list it expects, without sleeps.
function collector() {
  const calls: NodeRecord[][] = [];
  const waiters = new Set<{ pred: (m: NodeRecord[]) => boolean; resolve: () => void }>();
  return {
    calls,
    onChange(members: NodeRecord[]) {
      calls.push(members);
      for (const w of waiters) {
        if (w.pred(members)) {
          waiters.delete(w);
          w.resolve();
        }
      }
    },
    waitFor(pred: (m: NodeRecord[]) => boolean, timeoutMs = 5_000): Promise<void> {
      const last = calls.at(-1);
      if (last !== undefined && pred(last)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(
            new Error(
              `no matching member list within ${timeoutMs} ms; last: ${JSON.stringify(calls.at(-1))}`,
            ),
          );
        }, timeoutMs);
        const w = {
          pred,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        waiters.add(w);
      });
    },
  };
}
const ids = (members: NodeRecord[]) => members.map((m) => m.id).join(",");
const idsAre = (want: string) => (members: NodeRecord[]) => ids(members) === want;

let etcd: EtcdServer;
const discoveries: EtcdDiscovery[] = [];
function discovery(cluster: string, logger?: Logger): EtcdDiscovery {
  const d = createEtcdDiscovery({
    endpoints: [etcd.endpoint],
    cluster,
    logger,
    callTimeoutMs: 2_000,
  });
  discoveries.push(d);
  return d;
}

before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  await Promise.all(discoveries.map((d) => d.close()));
  await etcd.stop();
});

test("three registrations are discovered, ordered by id, with their records", async () => {
  const d = discovery("three");
  const seen = collector();
  const watch = await d.watch(seen.onChange, { debounceMs: 20 });
  assert.deepEqual(seen.calls, [[]]);
  await Promise.all([
    d.register({ id: "c", address: "127.0.0.1:7003" }, { ttlSec: 5 }),
    d.register({ id: "a", address: "127.0.0.1:7001", weight: 2, version: "1.2.3" }, { ttlSec: 5 }),
    d.register({ id: "b", address: "127.0.0.1:7002", startedAtMs: 42 }, { ttlSec: 5 }),
  ]);
  await seen.waitFor(idsAre("a,b,c"));
  const [a, b, c] = watch.members();
  assert.equal(a?.address, "127.0.0.1:7001");
  assert.equal(a?.weight, 2);
  assert.equal(a?.version, "1.2.3");
  assert.equal(typeof a?.startedAtMs, "number");
  assert.equal(b?.startedAtMs, 42);
  assert.equal(c?.weight, undefined);
  assert.equal(ids(await d.list()), "a,b,c");
  assert.equal(watch.connected, true);
});

test("changes within the debounce window reach the watcher as one list", async () => {
  const d = discovery("debounce");
  const seen = collector();
  await d.watch(seen.onChange, { debounceMs: 1_000 });
  await Promise.all(
    ["x", "y", "z"].map((id, i) => d.register({ id, address: `127.0.0.1:${7100 + i}` })),
  );
  await seen.waitFor(idsAre("x,y,z"));
  assert.deepEqual(seen.calls.map(ids), ["", "x,y,z"]);
});

test("a graceful close is seen at once, not after the TTL", async () => {
  const d = discovery("leave");
  const seen = collector();
  await d.watch(seen.onChange, { debounceMs: 0 });
  const a = await d.register({ id: "a", address: "127.0.0.1:7001" }, { ttlSec: 30 });
  await d.register({ id: "b", address: "127.0.0.1:7002" }, { ttlSec: 30 });
  await seen.waitFor(idsAre("a,b"));
  const t0 = Date.now();
  await a.close();
  assert.equal(a.registered, false);
  await seen.waitFor(idsAre("b"), 3_000);
  assert.ok(Date.now() - t0 < 3_000);
  await a.close(); // twice is fine
});

test("a second live node with the same id is rejected, not overwriting the first", async () => {
  const first = discovery("dup");
  const second = discovery("dup");
  await first.register({ id: "n1", address: "10.0.0.1:8001" }, { ttlSec: 5 });
  await assert.rejects(
    second.register({ id: "n1", address: "10.0.0.2:8001" }, { ttlSec: 5 }),
    (err: unknown) =>
      err instanceof DiscoveryError &&
      err.code === "DUPLICATE_ID" &&
      err.existing?.address === "10.0.0.1:8001" &&
      /already registered/.test(err.message),
  );
  const members = await second.list();
  assert.deepEqual(
    members.map((m) => m.address),
    ["10.0.0.1:8001"],
  );
});

test("a member that joins later is seen by an existing watcher", async () => {
  const d = discovery("join");
  await d.register({ id: "a", address: "127.0.0.1:7001" }, { ttlSec: 5 });
  const seen = collector();
  await d.watch(seen.onChange, { debounceMs: 10 });
  assert.deepEqual(seen.calls.map(ids), ["a"]);
  const late = discovery("join");
  await late.register({ id: "b", address: "127.0.0.1:7002" }, { ttlSec: 5 });
  await seen.waitFor(idsAre("a,b"));
});

test("bad records are logged and skipped; other clusters are not seen", async () => {
  const warnings: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn(obj) {
      warnings.push(String((obj as { key?: string }).key));
    },
    error() {},
  };
  const d = discovery("bad", logger);
  const raw = new Etcd3({ hosts: etcd.endpoint });
  try {
    await raw.put("/geecache/bad/nodes/junk").value("not json");
    await raw.put("/geecache/bad/nodes/liar").value('{"id":"other","address":"h:1"}');
    await raw.put("/geecache/bad/nodes/noaddr").value('{"id":"noaddr"}');
    await discovery("bad-other").register({ id: "z", address: "h:9" });
    const seen = collector();
    await d.watch(seen.onChange, { debounceMs: 10 });
    assert.deepEqual(seen.calls.map(ids), [""]);
    // The bad record goes first: events arrive in revision order, so once "ok" is seen its
    // warning has been logged (the other order raced the debounced flush).
    await raw.put("/geecache/bad/nodes/ok2").value("{");
    await raw.put("/geecache/bad/nodes/ok").value('{"id":"ok","address":"h:2"}');
    await seen.waitFor(idsAre("ok"));
    assert.deepEqual(warnings.sort(), [
      "/geecache/bad/nodes/junk",
      "/geecache/bad/nodes/liar",
      "/geecache/bad/nodes/noaddr",
      "/geecache/bad/nodes/ok2",
    ]);
  } finally {
    raw.close();
  }
});

test("invalid records and options are rejected before touching etcd", async () => {
  const d = discovery("invalid");
  await assert.rejects(d.register({ id: "", address: "h:1" }), TypeError);
  await assert.rejects(d.register({ id: "a/b", address: "h:1" }), TypeError);
  await assert.rejects(d.register({ id: "a", address: "h:1", weight: 0 }), RangeError);
  await assert.rejects(d.register({ id: "a", address: "h:1" }, { ttlSec: 0.5 }), RangeError);
  await assert.rejects(d.register({ id: "a", address: "h:1" }, { ttlSec: 1e12 }), RangeError);
  await assert.rejects(d.register(undefined as never), TypeError);
  for (const address of ["nonsense", "h:0", "h:65536", ":8001"]) {
    await assert.rejects(d.register({ id: "a", address }), TypeError, address);
  }
  await assert.rejects(d.register({ id: "a", address: "h:1" }, { onEvent: 1 as never }), TypeError);
  await assert.rejects(d.watch(undefined as never), TypeError);
  await assert.rejects(
    d.watch(() => {}, { debounceMs: -1 }),
    RangeError,
  );
  assert.throws(() => createEtcdDiscovery(undefined as never), {
    name: "TypeError",
    message: /options must be an object/,
  });
  assert.throws(() => createEtcdDiscovery({ endpoints: [], cluster: "x" }), TypeError);
  assert.throws(() => createEtcdDiscovery({ endpoints: ["http://h:1"] } as never), TypeError);
  assert.throws(
    () => createEtcdDiscovery({ endpoints: ["http://h:1"], cluster: "x", dialTimeoutMs: -1 }),
    RangeError,
  );
  assert.throws(
    () => createEtcdDiscovery({ endpoints: ["http://h:1"], cluster: "a/b" }),
    TypeError,
  );
});

test("a node process killed with SIGKILL drops out within TTL + 1 s", async () => {
  const ttlSec = 2;
  const d = discovery("killed");
  const seen = collector();
  await d.watch(seen.onChange, { debounceMs: 0 });
  const child = await spawnProcess({
    name: "node-k1",
    args: [fileURLToPath(new URL("./testdata/register-node.ts", import.meta.url))],
    env: {
      ETCD_ENDPOINT: etcd.endpoint,
      CLUSTER: "killed",
      NODE_ID: "k1",
      NODE_ADDRESS: "127.0.0.1:7301",
      TTL_SEC: String(ttlSec),
    },
    ready: /^registered \d+/,
  });
  await seen.waitFor(idsAre("k1"));
  const t0 = Date.now();
  await child.stop("SIGKILL");
  await seen.waitFor(idsAre(""), ttlSec * 1_000 + 3_000);
  const tookMs = Date.now() - t0;
  assert.ok(tookMs <= ttlSec * 1_000 + 1_000, `record outlived the lease: ${tookMs} ms`);
});

test("a node process stopped with SIGTERM leaves at once", async () => {
  const d = discovery("stopped");
  const seen = collector();
  await d.watch(seen.onChange, { debounceMs: 0 });
  const child = await spawnProcess({
    name: "node-s1",
    args: [fileURLToPath(new URL("./testdata/register-node.ts", import.meta.url))],
    env: {
      ETCD_ENDPOINT: etcd.endpoint,
      CLUSTER: "stopped",
      NODE_ID: "s1",
      NODE_ADDRESS: "127.0.0.1:7401",
      TTL_SEC: "30",
    },
    ready: /^registered \d+/,
  });
  await seen.waitFor(idsAre("s1"));
  const status = await child.stop("SIGTERM");
  assert.deepEqual(status, { code: 0, signal: null }, child.output());
  await seen.waitFor(idsAre(""), 3_000);
});

test("a restarted node waits out the lease of its crashed predecessor (waitForIdMs)", async () => {
  const ttlSec = 2;
  const child = await spawnProcess({
    name: "node-r1",
    args: [fileURLToPath(new URL("./testdata/register-node.ts", import.meta.url))],
    env: {
      ETCD_ENDPOINT: etcd.endpoint,
      CLUSTER: "restart",
      NODE_ID: "r1",
      NODE_ADDRESS: "127.0.0.1:7501",
      TTL_SEC: String(ttlSec),
    },
    ready: /^registered \d+/,
  });
  await child.stop("SIGKILL");
  const d = discovery("restart");
  await assert.rejects(
    d.register({ id: "r1", address: "127.0.0.1:7501" }, { ttlSec }),
    (err: unknown) => err instanceof DiscoveryError && err.code === "DUPLICATE_ID",
  );
  const t0 = Date.now();
  const reg = await d.register(
    { id: "r1", address: "127.0.0.1:7501" },
    { ttlSec, waitForIdMs: ttlSec * 1_000 + 2_000 },
  );
  // The wait ends by waitForIdMs; one last claim may follow it.
  assert.ok(Date.now() - t0 <= ttlSec * 1_000 + 2_000 + 2_000);
  assert.equal(reg.registered, true);
  assert.deepEqual(
    (await d.list()).map((m) => m.id),
    ["r1"],
  );
});

test("waitForIdMs does not take an id from a live holder", async () => {
  const holder = discovery("live-holder");
  await holder.register({ id: "h1", address: "10.0.0.1:1" }, { ttlSec: 2 });
  const t0 = Date.now();
  await assert.rejects(
    discovery("live-holder").register(
      { id: "h1", address: "10.0.0.2:1" },
      { ttlSec: 2, waitForIdMs: 2_500 },
    ),
    (err: unknown) => err instanceof DiscoveryError && err.code === "DUPLICATE_ID",
  );
  // Longer than the holder's TTL: its keepalive, not luck, kept the id.
  assert.ok(Date.now() - t0 >= 2_500);
  assert.equal(ids(await holder.list()), "h1");
});

test("a lease reported lost twice is re-registered once", async () => {
  // etcd3 1.1.2 can emit "lost" twice for one lease (two keepalive loops after a long outage
  // each notice the expiry). Reproduce it on the real lease object: revoke it in etcd, then
  // emit "lost" twice, as the client would.
  const client = new Etcd3({ hosts: etcd.endpoint });
  const leases: Lease[] = [];
  const grant = client.lease.bind(client);
  client.lease = (...args: Parameters<Etcd3["lease"]>) => {
    const lease = grant(...args);
    leases.push(lease);
    return lease;
  };
  const warned: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (_obj, msg) => void warned.push(msg ?? ""),
    error() {},
  };
  const d = createEtcdDiscovery({ client, cluster: "lost-twice", callTimeoutMs: 2_000, logger });
  discoveries.push(d);
  const seen: RegistrationEvent[] = [];
  let reregistered!: () => void;
  const back = new Promise<void>((resolve) => {
    reregistered = resolve;
  });
  const reg = await d.register(
    { id: "l1", address: "127.0.0.1:7601" },
    {
      ttlSec: 5,
      onEvent: (e) => {
        seen.push(e);
        if (e.type === "reregistered") reregistered();
      },
    },
  );
  const first = reg.leaseId;
  const lease = leases.at(-1)!;
  assert.equal(leases.length, 1);
  await lease.revoke();
  // What etcd3 emits when it could not renew the lease for 2 × TTL.
  const err = new EtcdLeaseInvalidError("We lost connection to etcd and our lease has expired.");
  lease.emit("lost", err);
  lease.emit("lost", err);
  assert.deepEqual(
    seen.map((e) => e.type),
    ["lost"],
  );
  assert.deepEqual(warned, ["etcd registration: lease lost; re-registering"]);
  const lost = seen[0] as Extract<RegistrationEvent, { type: "lost" }>;
  assert.ok(lost.error instanceof DiscoveryError && lost.error.code === "LEASE_LOST");
  assert.equal(
    lost.error.message,
    `lease ${first} lost: etcd could not be reached for over 10 s (2 × TTL), so the lease is given up (etcd may not have expired it yet)`,
  );
  assert.equal(lost.error.cause, err);
  await back;
  // Both retries of a doubled loop start on the same tick, so by now each would have granted.
  assert.equal(leases.length, 2, "one re-registration, one new lease");
  assert.equal(reg.registered, true);
  assert.notEqual(reg.leaseId, first);
  assert.deepEqual(
    (await d.list()).map((m) => m.id),
    ["l1"],
  );
  assert.deepEqual(
    seen.map((e) => e.type),
    ["lost", "reregistered"],
  );
  await d.close();
  client.close();
});
