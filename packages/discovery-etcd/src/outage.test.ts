import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type EtcdServer, startEtcd } from "@geecache/testkit";
import { Etcd3 } from "etcd3";
import { createEtcdDiscovery, type EtcdDiscovery } from "./discovery.ts";
import { DiscoveryError } from "./errors.ts";
import type { NodeRecord } from "./record.ts";
import type { Registration, RegistrationEvent } from "./registration.ts";

// These tests stop, restart and wipe their own etcd, one after another, with a 2 s lease TTL.
const TTL_SEC = 2;

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
    waitFor(pred: (m: NodeRecord[]) => boolean, timeoutMs = 10_000): Promise<void> {
      const last = calls.at(-1);
      if (last !== undefined && pred(last)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(
            new Error(`no matching list within ${timeoutMs} ms; last: ${JSON.stringify(last)}`),
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

// Records a registration's events and lets a test wait for one of a type.
function events() {
  const seen: RegistrationEvent[] = [];
  const waiters = new Set<{
    type: string;
    from: number;
    resolve: (e: RegistrationEvent) => void;
  }>();
  return {
    seen,
    onEvent(e: RegistrationEvent) {
      seen.push(e);
      for (const w of waiters) {
        if (w.type === e.type) {
          waiters.delete(w);
          w.resolve(e);
        }
      }
    },
    /** next waits for the first event of type that arrives after now. */
    next(type: RegistrationEvent["type"], timeoutMs = 15_000): Promise<RegistrationEvent> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`no ${type} event within ${timeoutMs} ms; saw ${JSON.stringify(seen)}`));
        }, timeoutMs);
        const w = {
          type,
          from: seen.length,
          resolve: (e: RegistrationEvent) => {
            clearTimeout(timer);
            resolve(e);
          },
        };
        waiters.add(w);
      });
    },
  };
}

let etcd: EtcdServer;
let nodes: EtcdDiscovery;
let observer: EtcdDiscovery;
const seen = collector();
const n1Events = events();
const n2Events = events();
let n1: Registration;
let n2: Registration;

async function leaseTtl(leaseId: string): Promise<number> {
  const raw = new Etcd3({ hosts: etcd.endpoint });
  try {
    const res = await raw.leaseClient.leaseTimeToLive({ ID: leaseId, keys: false });
    return Number(res.TTL);
  } finally {
    raw.close();
  }
}

before(async () => {
  etcd = await startEtcd();
  const options = { endpoints: [etcd.endpoint], cluster: "outage", callTimeoutMs: 1_000 };
  nodes = createEtcdDiscovery(options);
  observer = createEtcdDiscovery(options);
  await observer.watch(seen.onChange, { debounceMs: 50 });
  n1 = await nodes.register(
    { id: "n1", address: "127.0.0.1:7001" },
    { ttlSec: TTL_SEC, onEvent: n1Events.onEvent },
  );
  n2 = await nodes.register(
    { id: "n2", address: "127.0.0.1:7002" },
    { ttlSec: TTL_SEC, onEvent: n2Events.onEvent },
  );
  await seen.waitFor(idsAre("n1,n2"));
});
after(async () => {
  await Promise.all([nodes.close(), observer.close()]);
  await etcd.stop();
});

test("while etcd is down, calls fail within their deadline and the watcher keeps its members", async () => {
  const watch = await observer.watch(() => {}, { debounceMs: 0 });
  const records: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const log = (level: string) => (obj: object, msg?: string) =>
    records.push({ level, obj: obj as Record<string, unknown>, msg: msg ?? "" });
  const logged = createEtcdDiscovery({
    endpoints: [etcd.endpoint],
    cluster: "outage-log",
    callTimeoutMs: 1_000,
    logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
  });
  const leaving = await logged.register({ id: "n9", address: "127.0.0.1:7009" }, { ttlSec: 5 });
  await etcd.stop("SIGKILL");
  // A node stopping while etcd is down: one warning with the reason; the stack only at debug.
  await leaving.close();
  await logged.close();
  const warned = records.filter((r) => r.level === "warn" || r.level === "error");
  assert.deepEqual(
    warned.map((r) => r.msg),
    ["etcd registration: could not delete the record; it expires with the lease"],
  );
  assert.equal(typeof warned[0]!.obj.reason, "string");
  assert.equal(warned[0]!.obj.err, undefined);
  const t0 = Date.now();
  await assert.rejects(
    observer.list(),
    (err: unknown) => err instanceof DiscoveryError && err.code === "UNAVAILABLE",
  );
  assert.ok(Date.now() - t0 < 4_000, `list() took ${Date.now() - t0} ms`);
  assert.equal(ids(watch.members()), "n1,n2");
  assert.equal(ids(seen.calls.at(-1) ?? []), "n1,n2");
  await watch.close();
  await etcd.restart();
});

test("after an etcd restart (same data) nodes are registered and the watcher follows again", async () => {
  // Whether a lease outlived the short outage or was re-granted, each record is under a live lease.
  const late = await nodes.register({ id: "n3", address: "127.0.0.1:7003" }, { ttlSec: TTL_SEC });
  await seen.waitFor(idsAre("n1,n2,n3"));
  assert.ok((await leaseTtl(n1.leaseId)) > 0);
  assert.ok((await leaseTtl(n2.leaseId)) > 0);
  await late.close();
  await seen.waitFor(idsAre("n1,n2"));
});

test("an outage longer than the lease: the lease is lost, then re-granted and re-registered", async () => {
  const before1 = n1.leaseId;
  const lost = n1Events.next("lost");
  await etcd.stop();
  await lost;
  assert.equal(n1.registered, false);
  const back = n1Events.next("reregistered");
  await etcd.restart();
  await back;
  assert.equal(n1.registered, true);
  assert.notEqual(n1.leaseId, before1);
  assert.ok((await leaseTtl(n1.leaseId)) > 0);
  // etcd restored the old lease with a fresh TTL on restart; the record was moved off it.
  // nodes' client just re-registered, so its circuit breaker is closed; observer's may still be
  // open (it fails fast for 1 s after failures) and would only prove the breaker works.
  const members = await nodes.list();
  assert.equal(ids(members), "n1,n2");
  await seen.waitFor(idsAre("n1,n2"));
});

test("a fresh etcd (data lost) gets the nodes re-registered and the watcher resynchronized", async () => {
  const back1 = n1Events.next("reregistered");
  const back2 = n2Events.next("reregistered");
  await etcd.restart({ wipe: true });
  await Promise.all([back1, back2]);
  assert.ok((await leaseTtl(n1.leaseId)) > 0);
  assert.ok((await leaseTtl(n2.leaseId)) > 0);
  // The watcher kept n1,n2 throughout; a join proves it follows the new etcd's history (whose
  // revisions restarted from 1) and holds the re-registered records.
  const late = await nodes.register({ id: "n4", address: "127.0.0.1:7004" }, { ttlSec: TTL_SEC });
  await seen.waitFor(idsAre("n1,n2,n4"));
  await late.close();
  await seen.waitFor(idsAre("n1,n2"));
});
