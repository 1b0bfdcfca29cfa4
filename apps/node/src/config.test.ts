import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { codeBlockAfter } from "@geecache/testkit";
import { nodeUsage, parseNodeConfig } from "./config.ts";

test("defaults: one demo node on 127.0.0.1:8001 serving scores", () => {
  const c = parseNodeConfig([], {})!;
  assert.equal(c.advertise, "127.0.0.1:8001");
  assert.deepEqual(c.peers, ["127.0.0.1:8001"]);
  assert.deepEqual(c.groups, ["scores"]);
  assert.equal(c.cacheBytes, 64 * 2 ** 20);
  assert.deepEqual(c.source, { kind: "demo", delayMs: 300 });
  assert.equal(c.peerTimeoutMs, 2_000);
});

test("flags win over env; peers are normalized with self included", () => {
  const c = parseNodeConfig(
    [
      "--port",
      "8002",
      "--peers",
      " 127.0.0.1:8001, 127.0.0.1:8003,,127.0.0.1:8001",
      "--cache-bytes=1MiB",
    ],
    { GEECACHE_PORT: "9000", GEECACHE_GROUPS: "scores, users", GEECACHE_POLICY: "arc" },
  )!;
  assert.equal(c.port, 8002);
  assert.equal(c.advertise, "127.0.0.1:8002");
  assert.deepEqual(c.peers, ["127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"]);
  assert.deepEqual(c.groups, ["scores", "users"]);
  assert.equal(c.policy, "arc");
  assert.equal(c.cacheBytes, 2 ** 20);
});

test("--etcd: register under an id (the advertised address by default) with a weight and TTL", () => {
  const c = parseNodeConfig(
    ["--etcd", "127.0.0.1:2379", "--cluster", "prod", "--weight", "2", "--lease-ttl", "5s"],
    {},
  )!;
  assert.deepEqual(c.discovery, {
    etcd: { endpoints: ["http://127.0.0.1:2379"], cluster: "prod", callTimeoutMs: 3_000 },
    id: "127.0.0.1:8001",
    weight: 2,
    leaseTtlSec: 5,
  });
  assert.equal(parseNodeConfig([], {})!.discovery, undefined);
});

test("the http source takes a URL template and a timeout", () => {
  const c = parseNodeConfig(
    ["--source", "http", "--origin-url", "http://o/{group}/{key}", "--origin-timeout", "1500ms"],
    {},
  )!;
  assert.deepEqual(c.source, {
    kind: "http",
    urlTemplate: "http://o/{group}/{key}",
    timeoutMs: 1_500,
    maxBytes: 2 ** 20,
  });
});

test("bad input is refused with a clear message", () => {
  const bad: [string[], RegExp][] = [
    [["--nope"], /Unknown option '--nope'/],
    [["--port", "x"], /invalid port/],
    [["--port", "0"], /fixed port/],
    [["--host", "0.0.0.0"], /--advertise is required/],
    [["--peers", "localhost"], /want host:port/],
    [["--source", "http"], /needs --origin-url/],
    [["--source", "s3"], /unknown --source/],
    [["--policy", "mru"], /unknown --policy "mru": use lru, fifo, lfu, arc/],
    [["--cache-bytes", "lots"], /invalid size/],
    [["--groups", " , "], /at least one group/],
    [["--hot-cache-fraction", "2"], /hot-cache-fraction/],
    [["--etcd", "127.0.0.1:2379", "--peers", "127.0.0.1:8002"], /either --peers or --etcd/],
    [["--etcd", "127.0.0.1:2379", "--lease-ttl", "1500ms"], /whole seconds/],
    [["--etcd", "127.0.0.1:2379", "--weight", "0"], /--weight/],
    [["--etcd", "127.0.0.1:2379", "--id", "a/b"], /--id/],
    // Each of these used to pass start-up and then break (a crash in pino, a RangeError or
    // TypeError from a library, every load or every peer call failing, an instant exit).
    [["--log-level", "verbose"], /unknown --log-level "verbose": use fatal, error, warn, info/],
    [["--peer-timeout", "0"], /--peer-timeout must be positive/],
    [["--peer-timeout", "2m"], /--peer-timeout must be at most 60s \(the longest deadline/],
    [["--peer-timeout", "soon"], /--peer-timeout: invalid duration/],
    [
      ["--source", "http", "--origin-url", "http://127.0.0.1:18080/fixed"],
      /--origin-url: .* no \{key\}/,
    ],
    [["--source", "http", "--origin-url", "nope/{key}"], /--origin-url: .* is not a URL/],
    [["--source", "http", "--origin-url", "ftp://o/{key}"], /--origin-url: .* http or https/],
    [
      ["--source", "http", "--origin-url", "http://o/{key}", "--origin-timeout", "0"],
      /--origin-timeout must be positive/,
    ],
    [
      ["--source", "http", "--origin-url", "http://o/{key}", "--origin-max-bytes", "0"],
      /--origin-max-bytes must be positive/,
    ],
    [["--shutdown-grace", "600h"], /--shutdown-grace must be at most/],
    [["--demo-delay", "600h"], /--demo-delay must be at most/],
    [["--cache-bytes", "0"], /--cache-bytes must be positive/],
    [["--hot-cache-sample-rate", "1.5"], /--hot-cache-sample-rate must be in \[0, 1\]/],
    [["--ttl", "0"], /--ttl must be positive/],
    [["--ttl", "later"], /--ttl: invalid duration/],
    [["--negative-ttl", "-1s"], /--negative-ttl/],
    [["--max-streams", "0"], /--max-streams must be a whole number from 1/],
    [["--max-streams", "2.5"], /--max-streams must be a whole number/],
    [["--max-streams", `${2 ** 31}`], /--max-streams must be a whole number/],
    [["--idle-timeout", "0"], /--idle-timeout must be positive/],
    // --id, --weight and --lease-ttl mean nothing without etcd.
    [["--weight", "2"], /--weight applies only with --etcd/],
    [["--id", "a", "--lease-ttl", "5s"], /--id, --lease-ttl apply only with --etcd/],
  ];
  for (const [argv, message] of bad) {
    assert.throws(() => parseNodeConfig(argv, {}), message, argv.join(" "));
    // main.ts reports these two as usage errors (exit 2); anything else would be a crash.
    assert.throws(
      () => parseNodeConfig(argv, {}),
      (err) => err instanceof TypeError || err instanceof RangeError,
    );
  }
  assert.throws(() => parseNodeConfig([], { GEECACHE_WEIGHT: "2" }), /--weight applies only/);
});

test("group and server tuning: TTLs, hot cache sampling, HTTP/2 limits", () => {
  const d = parseNodeConfig([], {})!;
  assert.equal(d.ttlMs, undefined);
  assert.equal(d.negativeTtlMs, 1_000);
  assert.equal(d.hotCacheSampleRate, undefined);
  assert.equal(d.maxConcurrentStreams, 256);
  assert.equal(d.idleTimeoutMs, 6 * 60_000);
  const c = parseNodeConfig(
    ["--ttl", "5m", "--negative-ttl", "0", "--hot-cache-sample-rate", "1", "--max-streams", "64"],
    { GEECACHE_IDLE_TIMEOUT: "10m" },
  )!;
  assert.equal(c.ttlMs, 5 * 60_000);
  assert.equal(c.negativeTtlMs, 0);
  assert.equal(c.hotCacheSampleRate, 1);
  assert.equal(c.maxConcurrentStreams, 64);
  assert.equal(c.idleTimeoutMs, 10 * 60_000);
  // No timer is armed per entry: a TTL may be longer than Node's longest timer (24.8 days).
  assert.equal(parseNodeConfig(["--ttl", "900h"], {})!.ttlMs, 900 * 3_600_000);
});

test("limits: --peer-timeout up to 60s, the longest deadline a node's server accepts", () => {
  assert.equal(parseNodeConfig(["--peer-timeout", "60s"], {})!.peerTimeoutMs, 60_000);
  assert.equal(parseNodeConfig(["--log-level", "silent"], {})!.logLevel, "silent");
  assert.equal(parseNodeConfig(["--shutdown-grace", "0"], {})!.shutdownGraceMs, 0);
});

test("a load may take 10 s (core's default), or the source's own deadline plus a second", () => {
  const http = (timeout: string) =>
    parseNodeConfig(
      ["--source", "http", "--origin-url", "http://o/{key}", "--origin-timeout", timeout],
      {},
    )!;
  assert.equal(http("30s").loadTimeoutMs, 31_000);
  assert.equal(http("500ms").loadTimeoutMs, 10_000);
  assert.equal(http("9500ms").loadTimeoutMs, 10_500);
  assert.equal(parseNodeConfig([], {})!.loadTimeoutMs, 10_000);
  assert.equal(parseNodeConfig(["--demo-delay", "15s"], {})!.loadTimeoutMs, 16_000);
  // Still a valid timer at the very top.
  assert.equal(http(`${2 ** 31 - 1}`).loadTimeoutMs, 2 ** 31 - 1);
});

test("--help returns undefined and the usage lists flags with their env vars", () => {
  assert.equal(parseNodeConfig(["--help"], {}), undefined);
  assert.match(nodeUsage, /--peers <a,b,...>\s+static peer list.*env GEECACHE_PEERS/);
  assert.match(
    nodeUsage,
    /--etcd-timeout <duration> +deadline of one etcd call \(env GEECACHE_ETCD_TIMEOUT, default 3s\)$/m,
  );
  assert.match(nodeUsage, /--lease-ttl .*at least 2s/);
});

test("the README's flag list is the --help text", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  // The usage less its "Usage:" line and the blank one after it.
  const options = `${nodeUsage.split("\n").slice(2).join("\n")}\n`;
  assert.equal(codeBlockAfter(readme, "## Flags"), options);
});
