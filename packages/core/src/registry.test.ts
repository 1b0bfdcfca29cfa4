import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GeeCacheError } from "./errors.ts";
import { createRegistry } from "./registry.ts";

function isCode(code: string) {
  return (e: unknown) => e instanceof GeeCacheError && e.code === code;
}

describe("Registry", () => {
  const getter = (key: string) => key;

  it("registers groups by name and finds them", () => {
    const r = createRegistry();
    const users = r.newGroup({ name: "users", maxBytes: 100, getter });
    r.newGroup({ name: "avatars", maxBytes: 100, getter });
    assert.equal(r.get("users"), users);
    assert.equal(r.mustGet("users"), users);
    assert.equal(r.get("nope"), undefined);
    assert.deepEqual(r.names(), ["avatars", "users"]);
  });

  it("rejects a duplicate name and reports an unknown one", () => {
    const r = createRegistry();
    r.newGroup({ name: "users", maxBytes: 100, getter });
    assert.throws(
      () => r.newGroup({ name: "users", maxBytes: 100, getter }),
      isCode("DUPLICATE_GROUP"),
    );
    assert.throws(() => r.mustGet("nope"), isCode("UNKNOWN_GROUP"));
    assert.throws(() => r.mustGet("nope"), /no group named "nope"/);
  });

  it("keeps registries apart (no global state)", () => {
    createRegistry().newGroup({ name: "users", maxBytes: 100, getter });
    assert.doesNotThrow(() => createRegistry().newGroup({ name: "users", maxBytes: 100, getter }));
  });

  it("reports every group's stats as plain data", async () => {
    const r = createRegistry();
    await r.newGroup({ name: "a", maxBytes: 100, getter }).get("x");
    r.newGroup({ name: "b", maxBytes: 100, getter });
    const stats = r.stats();
    assert.deepEqual(Object.keys(stats).sort(), ["a", "b"]);
    assert.equal(stats.a!.gets, 1);
    assert.deepEqual(JSON.parse(JSON.stringify(stats)), stats);
  });

  it("rejects a non-picker in setPeers", () => {
    assert.throws(
      () =>
        createRegistry().setPeers(
          {} as unknown as Parameters<ReturnType<typeof createRegistry>["setPeers"]>[0],
        ),
      isCode("INVALID_ARGUMENT"),
    );
  });
});
