import assert from "node:assert/strict";
import { test } from "node:test";
import { GeeCacheError } from "./errors.ts";
import { createSharedLoads } from "./shared-load.ts";

// The work learns why its last caller left: a peer call that the breaker must count as out of
// time (the last caller's deadline) is not one the caller cancelled.
test("work whose last caller left is aborted with that caller's reason", async () => {
  const loads = createSharedLoads();
  const reasons: string[] = [];
  const work = (signal: AbortSignal) => {
    signal.addEventListener("abort", () => reasons.push(GeeCacheError.from(signal.reason).code));
    return new Promise<never>(() => {});
  };
  await assert.rejects(loads.run("a", AbortSignal.timeout(20), work));
  const gone = new AbortController();
  const pending = loads.run("b", gone.signal, work);
  gone.abort(new GeeCacheError("CANCELED", "the client went away"));
  await assert.rejects(pending);
  assert.deepEqual(reasons, ["DEADLINE_EXCEEDED", "CANCELED"]);
});
