import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GeeCacheError } from "./errors.ts";
import { createRingPeerPicker } from "./ring-peer-picker.ts";
import { type FakePeer, fakePeer } from "./test-util.ts";

// The injected hash makes owners exact: the virtual node "<addr>#0" hashes to the number that
// ends the address ("n:10" -> 10), and a key "k<number>" hashes to that number, so a key is
// owned by the first node at or after it (wrapping around).
function hash(s: string): number {
  const m = /(\d+)(#0)?$/.exec(s);
  return m ? Number(m[1]) : 0;
}

function setup(self?: string) {
  const created: FakePeer[] = [];
  const picker = createRingPeerPicker({
    self,
    replicas: 1,
    hash,
    createPeer: (address) => {
      const p = fakePeer(address);
      created.push(p);
      return p;
    },
  });
  return { picker, created };
}

describe("RingPeerPicker", () => {
  it("returns the owner's PeerGetter, and undefined when self owns the key", () => {
    const { picker, created } = setup("n:20");
    picker.setPeers(["n:10", "n:20", "n:30"]);
    assert.deepEqual(
      created.map((p) => p.id),
      ["n:10", "n:30"],
    );
    assert.equal(picker.pickPeer("k5")?.id, "n:10");
    assert.equal(picker.pickPeer("k15"), undefined); // self
    assert.equal(picker.ownerOf("k15"), "n:20");
    assert.equal(picker.pickPeer("k25")?.id, "n:30");
    assert.equal(picker.pickPeer("k35")?.id, "n:10"); // wraps
    assert.deepEqual(picker.peers(), ["n:10", "n:20", "n:30"]);
  });

  it("with no members every key is local", () => {
    const { picker } = setup("n:20");
    assert.equal(picker.pickPeer("k1"), undefined);
    assert.equal(picker.ownerOf("k1"), undefined);
  });

  it("without self (a gateway) always names a peer", () => {
    const { picker } = setup();
    picker.setPeers([
      { id: "a", address: "n:10" },
      { id: "b", address: "n:20", weight: 1 },
    ]);
    assert.equal(picker.pickPeer("k15")?.id, "n:20");
  });

  it("pickPeers lists the owner first, then successors, skipping self", () => {
    const { picker } = setup("n:20");
    picker.setPeers(["n:10", "n:20", "n:30"]);
    assert.deepEqual(
      picker.pickPeers("k5", 3).map((p) => p.id),
      ["n:10", "n:30"],
    );
    assert.deepEqual(
      picker.pickPeers("k15", 1).map((p) => p.id),
      ["n:30"],
    );
    assert.deepEqual(picker.pickPeers("k15", 0), []);
  });

  it("keeps getters of staying peers and closes the ones that left", async () => {
    const { picker, created } = setup();
    picker.setPeers(["n:10", "n:20"]);
    const first = picker.pickPeer("k15");
    picker.setPeers(["n:20", "n:30"]);
    assert.equal(picker.pickPeer("k15"), first);
    assert.equal(picker.pickPeer("k5")?.id, "n:20");
    assert.equal(created.length, 3);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      created.map((p) => [p.id, p.closed]),
      [
        ["n:10", 1],
        ["n:20", 0],
        ["n:30", 0],
      ],
    );
    await picker.close();
    assert.deepEqual(
      created.map((p) => p.closed),
      [1, 1, 1],
    );
    assert.equal(picker.pickPeer("k15"), undefined);
  });

  it("leaves the membership unchanged on a bad list", () => {
    const { picker } = setup();
    picker.setPeers(["n:10"]);
    assert.throws(
      () => picker.setPeers(["n:20", { id: "x", address: "n:30", weight: -1 }]),
      GeeCacheError,
    );
    assert.deepEqual(picker.peers(), ["n:10"]);
  });

  it("spreads keys over members with the default hash", () => {
    const picker = createRingPeerPicker({
      self: "a:1",
      createPeer: (address) => fakePeer(address),
    });
    picker.setPeers(["a:1", "b:1", "c:1"]);
    const owners = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const o = picker.ownerOf(`key-${i}`)!;
      owners.set(o, (owners.get(o) ?? 0) + 1);
    }
    for (const n of owners.values()) assert.ok(n > 600 && n < 1400, `uneven: ${[...owners]}`);
  });
});
