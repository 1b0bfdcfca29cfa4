import assert from "node:assert/strict";
import { test } from "node:test";
import { createDemoSource, demoTable } from "./demo-source.ts";

test("the demo source answers its table, null otherwise, and counts lookups per key", async () => {
  const lines: string[] = [];
  const logger = {
    debug() {},
    info: (_: object, msg?: string) => lines.push(msg ?? ""),
    warn() {},
    error() {},
  };
  const source = createDemoSource({ delayMs: 0, logger });
  const ctx = { signal: new AbortController().signal, group: "scores" };
  assert.equal(await source.get("Tom", ctx), "630");
  assert.equal(await source.get("Tom", ctx), "630");
  assert.equal(await source.get("nobody", ctx), null);
  assert.deepEqual(source.loads(), { byKey: { Tom: 2 }, missing: 1 });
  assert.deepEqual(lines, [
    "[SlowDB] search key Tom",
    "[SlowDB] search key Tom",
    "[SlowDB] search key nobody",
  ]);
  assert.ok(demoTable.get("Blob") instanceof Uint8Array);
});

test("the slow lookup stops when its signal aborts", async () => {
  const source = createDemoSource({ delayMs: 60_000 });
  const ac = new AbortController();
  const p = source.get("Tom", { signal: ac.signal, group: "scores" });
  ac.abort();
  await assert.rejects(p, { name: "AbortError" });
});
