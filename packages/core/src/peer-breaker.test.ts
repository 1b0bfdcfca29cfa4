import assert from "node:assert/strict";
import { test } from "node:test";
import { GeeCacheError } from "./errors.ts";
import { createPeerBreaker } from "./peer-breaker.ts";

test("a background test that answers after close, or after forget, starts no more", async () => {
  for (const end of ["close", "forget"] as const) {
    let probes = 0;
    // Each test fails, a little later.
    const probe = () => {
      probes++;
      return new Promise<void>((_resolve, reject) =>
        setTimeout(() => reject(new GeeCacheError("UNAVAILABLE", "refused")), 20),
      );
    };
    const breaker = createPeerBreaker(
      { failures: 1, cooldownMs: 5, maxCooldownMs: 5 },
      Date.now,
      undefined,
      () => probe,
    );
    breaker.record("p", "failed");
    for (let i = 0; i < 100 && probes === 0; i++) await new Promise((r) => setTimeout(r, 2));
    assert.equal(probes, 1);
    if (end === "close") breaker.close();
    else breaker.forget("p");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(probes, 1, end);
    assert.deepEqual(breaker.down(), [], end);
    breaker.close();
  }
});
