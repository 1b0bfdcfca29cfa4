import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createRegistry, type Registry } from "@geecache/core";
import { type ConnectPeerPicker, createConnectPeerPicker } from "./peer-picker.ts";
import { type CacheServer, startCacheServer } from "./server.ts";

interface Node {
  address: string;
  registry: Registry;
  picker: ConnectPeerPicker;
  server: CacheServer;
  loads: string[];
}

// Starts a node on a free port; its picker learns the members later with setPeers, which is
// also how a node learns its own port-0 address.
async function startNode(): Promise<Node> {
  const loads: string[] = [];
  const registry = createRegistry();
  const server = await startCacheServer({ registry, port: 0 });
  const address = `127.0.0.1:${server.address.port}`;
  const picker = createConnectPeerPicker({ self: address, timeoutMs: 2_000 });
  registry.setPeers(picker);
  registry.newGroup({
    name: "scores",
    maxBytes: 1 << 20,
    hotCacheFraction: 0,
    getter: (key: string) => {
      loads.push(key);
      return `${key}@${address}`;
    },
  });
  return { address, registry, picker, server, loads };
}

describe("createConnectPeerPicker", () => {
  const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
  let nodes: Node[];

  before(async () => {
    nodes = await Promise.all([startNode(), startNode(), startNode()]);
    for (const node of nodes) node.picker.setPeers(nodes.map((n) => n.address));
  });
  after(async () => {
    for (const node of nodes) {
      await node.picker.close();
      await node.server.close({ graceMs: 1_000 });
    }
  });

  test("every node and a gateway agree on each key's owner, whatever the list order", async () => {
    const gateway = createConnectPeerPicker();
    gateway.setPeers(nodes.map((n) => n.address).reverse());
    for (const key of keys) {
      const owner = gateway.ownerOf(key);
      for (const node of nodes) assert.equal(node.picker.ownerOf(key), owner);
      assert.equal(gateway.pickPeer(key)?.id, owner, "a gateway owns nothing");
    }
    assert.equal(new Set(keys.map((k) => gateway.ownerOf(k))).size, 3, "keys spread");
    await gateway.close();
  });

  test("a key asked at any node is loaded once, by its owner", async () => {
    for (const key of keys) {
      for (const node of nodes) {
        const view = await node.registry.mustGet("scores").get(key);
        assert.equal(view.toString(), `${key}@${nodes[0]?.picker.ownerOf(key)}`);
      }
    }
    for (const node of nodes) {
      const owned = keys.filter((k) => node.picker.ownerOf(k) === node.address);
      assert.deepEqual([...node.loads].sort(), owned.sort());
    }
  });

  test("client(address) reads a member's stats; self has no client", async () => {
    const [a, b] = nodes as [Node, Node];
    assert.equal(a.picker.client(a.address), undefined);
    const stats = await a.picker.client(b.address)?.stats();
    assert.equal(stats?.nodeId, b.address);
    assert.ok((stats?.groups.scores?.serverRequests as number) > 0, "b served forwarded gets");
  });

  test("setPeers swaps membership at run time", async () => {
    const [a, b] = nodes as [Node, Node];
    const key = keys.find((k) => a.picker.ownerOf(k) === b.address) ?? assert.fail("no key of b");
    a.picker.setPeers([a.address]);
    assert.equal(a.picker.pickPeer(key), undefined, "alone, a owns every key");
    assert.equal(a.picker.client(b.address), undefined, "b's client was closed");
    const view = await a.registry.mustGet("scores").get(`${key}-fresh`);
    assert.equal(view.toString(), `${key}-fresh@${a.address}`);
    a.picker.setPeers(nodes.map((n) => n.address));
    assert.equal(a.picker.pickPeer(key)?.id, b.address);
  });
});

test("createConnectPeerPicker rejects bad client options up front, not in setPeers", () => {
  const bad = [
    { timeoutMs: -1 },
    { timeoutMs: Number.POSITIVE_INFINITY },
    { idleConnectionTimeoutMs: Number.NaN },
    { pingIntervalMs: 0 },
  ];
  for (const options of bad) {
    const [name] = Object.keys(options);
    assert.throws(() => createConnectPeerPicker(options), {
      name: "RangeError",
      message: new RegExp(`^${name} must be`),
    });
  }
});
