import assert from "node:assert/strict";
import { test } from "node:test";
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
  ];
  for (const [argv, message] of bad)
    assert.throws(() => parseNodeConfig(argv, {}), message, argv.join(" "));
});

test("--help returns undefined and the usage lists flags with their env vars", () => {
  assert.equal(parseNodeConfig(["--help"], {}), undefined);
  assert.match(nodeUsage, /--peers <a,b,...>\s+static peer list.*env GEECACHE_PEERS/);
});
