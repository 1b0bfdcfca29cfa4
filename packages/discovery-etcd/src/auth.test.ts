import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type EtcdServer, startEtcd } from "@geecache/testkit";
import { Etcd3 } from "etcd3";
import { createEtcdDiscovery } from "./discovery.ts";
import type { NodeRecord } from "./record.ts";

// An etcd with authentication on: user/password pass through to etcd3.
let etcd: EtcdServer;

before(async () => {
  etcd = await startEtcd();
  const raw = new Etcd3({ hosts: etcd.endpoint });
  try {
    await raw.role("root").create();
    await raw.user("root").create("root-secret");
    await raw.user("root").addRole("root");
    await raw.role("nodes").create();
    await raw
      .role("nodes")
      .grant({ permission: "Readwrite", range: raw.range({ prefix: "/geecache/" }) });
    await raw.user("node").create("node-secret");
    await raw.user("node").addRole("nodes");
    await raw.auth.authEnable({});
  } finally {
    raw.close();
  }
});
after(async () => {
  await etcd.stop();
});

test("a user with a password registers and watches", async () => {
  const d = createEtcdDiscovery({
    endpoints: [etcd.endpoint],
    cluster: "auth",
    auth: { username: "node", password: "node-secret" },
  });
  try {
    let sawA: () => void = () => {};
    const seen = new Promise<void>((resolve) => {
      sawA = resolve;
    });
    await d.watch(
      (members: NodeRecord[]) => {
        if (members.some((m) => m.id === "a")) sawA();
      },
      { debounceMs: 0 },
    );
    await d.register({ id: "a", address: "h:1" }, { ttlSec: 5 });
    await seen;
    assert.deepEqual(
      (await d.list()).map((m) => m.id),
      ["a"],
    );
  } finally {
    await d.close();
  }
});

test("a wrong password is refused", async () => {
  const d = createEtcdDiscovery({
    endpoints: [etcd.endpoint],
    cluster: "auth",
    auth: { username: "node", password: "wrong" },
  });
  try {
    await assert.rejects(
      d.register({ id: "b", address: "h:2" }, { ttlSec: 5 }),
      /authentication failed|invalid/i,
    );
    await assert.rejects(d.list());
  } finally {
    await d.close();
  }
});
