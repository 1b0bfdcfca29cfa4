import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { codeBlockAfter } from "@geecache/testkit";
import { gatewayUsage, parseGatewayConfig } from "./config.ts";

test("defaults: three local nodes, a 2 s deadline, port 9999", () => {
  const c = parseGatewayConfig([], {})!;
  assert.deepEqual(c.peers, ["127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"]);
  assert.equal(c.timeoutMs, 2_000);
  assert.equal(c.port, 9999);
  assert.equal(c.logLevel, "info");
  assert.equal(parseGatewayConfig(["--timeout", "60s"], {})!.timeoutMs, 60_000);
  assert.equal(parseGatewayConfig(["--shutdown-grace", "0"], {})!.shutdownGraceMs, 0);
});

test("bad values are refused at start-up with a message naming the flag", () => {
  const bad: [string[], RegExp][] = [
    // Every /api request would be a 400 from the node: its server refuses deadlines over 60 s.
    [["--timeout", "5m"], /--timeout must be at most 60s \(the longest deadline a cache node/],
    [["--timeout", "0"], /--timeout must be positive/],
    [["--timeout", "soon"], /--timeout: invalid duration/],
    // pino would throw at start-up.
    [["--log-level", "verbose"], /unknown --log-level "verbose": use fatal, error/],
    // A timer past 2^31-1 ms fires at once: the gateway would exit on SIGTERM without waiting.
    [["--shutdown-grace", "600h"], /--shutdown-grace must be at most/],
    [["--max-key-bytes", "0"], /--max-key-bytes must be positive/],
    [["--access-log", "maybe"], /--access-log must be on or off/],
    [["--peers", " , "], /at least one cache node/],
  ];
  for (const [argv, message] of bad) {
    assert.throws(() => parseGatewayConfig(argv, {}), message, argv.join(" "));
    // main.ts reports these two as usage errors (exit 2); anything else would be a crash.
    assert.throws(
      () => parseGatewayConfig(argv, {}),
      (err) => err instanceof TypeError || err instanceof RangeError,
    );
  }
  assert.throws(() => parseGatewayConfig([], { GATEWAY_TIMEOUT: "2m" }), /--timeout/);
});

test("--help returns undefined; the etcd auth note is not on --etcd-timeout's line", () => {
  assert.equal(parseGatewayConfig(["-h"], {}), undefined);
  assert.match(gatewayUsage, /--etcd-timeout <duration> +deadline of one etcd call \(env/);
  assert.match(gatewayUsage, /--timeout <duration> +.*at most 60s/);
});

test("the README's flag list is the --help text", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  // The usage less its "Usage:" line and the blank one after it.
  const options = `${gatewayUsage.split("\n").slice(2).join("\n")}\n`;
  assert.equal(codeBlockAfter(readme, "## Flags"), options);
});
