import assert from "node:assert/strict";
import { test } from "node:test";
import { BrokenCircuitError } from "cockatiel";
import { GRPCDeadlineExceededError, GRPCUnavailableError } from "etcd3";
import { DiscoveryError, unavailable } from "./errors.ts";

test("unavailable says what failed and why, in its own words where etcd3's mislead", () => {
  const cases: [cause: unknown, message: string][] = [
    // gRPC counts from the retry's start, after our deadline had passed.
    [
      new GRPCDeadlineExceededError("Deadline exceeded after 0.000s"),
      "granting a 10s lease: etcd did not answer within 2000 ms",
    ],
    [
      new BrokenCircuitError(),
      "granting a 10s lease: etcd is unreachable (failing fast after repeated errors)",
    ],
    [
      new GRPCUnavailableError("No connection established"),
      "granting a 10s lease: No connection established",
    ],
    ["down", "granting a 10s lease: down"],
  ];
  for (const [cause, message] of cases) {
    const err = unavailable("granting a 10s lease", cause, 2_000);
    assert.ok(err instanceof DiscoveryError);
    assert.equal(err.code, "UNAVAILABLE");
    assert.equal(err.message, message);
    assert.equal(err.cause, cause);
  }
  const already = new DiscoveryError("UNAVAILABLE", "reading /x/: down");
  assert.equal(unavailable("registering /x/a", already, 2_000), already);
});
