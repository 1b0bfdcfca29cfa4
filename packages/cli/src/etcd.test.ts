import assert from "node:assert/strict";
import { test } from "node:test";
import { etcdOptionSpecs, parseEtcdConfig } from "./etcd.ts";
import { usage } from "./options.ts";

const none = {
  etcd: undefined,
  cluster: "default",
  "etcd-ca": undefined,
  "etcd-cert": undefined,
  "etcd-key": undefined,
  "etcd-timeout": "3s",
};

test("parseEtcdConfig: absent --etcd means static membership", () => {
  assert.equal(parseEtcdConfig(none, {}), undefined);
});

test("parseEtcdConfig: endpoints, cluster, timeout and auth from the environment", () => {
  const c = parseEtcdConfig(
    { ...none, etcd: "127.0.0.1:2379, https://etcd-2:2379", cluster: "prod", "etcd-timeout": "1s" },
    { ETCD_USERNAME: "geecache", ETCD_PASSWORD: "secret" },
  );
  assert.deepEqual(c, {
    endpoints: ["http://127.0.0.1:2379", "https://etcd-2:2379"],
    cluster: "prod",
    callTimeoutMs: 1000,
    auth: { username: "geecache", password: "secret" },
  });
});

test("parseEtcdConfig: bad input is a TypeError or RangeError naming the flag", () => {
  assert.throws(() => parseEtcdConfig({ ...none, etcd: " , " }, {}), /--etcd/);
  assert.throws(() => parseEtcdConfig({ ...none, etcd: "x:1", cluster: "a/b" }, {}), /--cluster/);
  assert.throws(
    () => parseEtcdConfig({ ...none, etcd: "x:1", "etcd-timeout": "0" }, {}),
    RangeError,
  );
  assert.throws(
    () => parseEtcdConfig({ ...none, etcd: "x:1", "etcd-cert": "c.pem" }, {}),
    /--etcd-ca/,
  );
  assert.throws(
    () => parseEtcdConfig({ ...none, etcd: "x:1", "etcd-ca": "/nonexistent/ca.pem" }, {}),
    /--etcd-ca: cannot read/,
  );
  assert.throws(
    () => parseEtcdConfig({ ...none, etcd: "x:1" }, { ETCD_USERNAME: "geecache" }),
    /^TypeError: ETCD_USERNAME is set but ETCD_PASSWORD is not/,
  );
  assert.throws(
    () => parseEtcdConfig({ ...none, etcd: "x:1" }, { ETCD_PASSWORD: "secret", ETCD_USERNAME: "" }),
    /^TypeError: ETCD_PASSWORD is set but ETCD_USERNAME is not/,
  );
  // A password in the URL would be printed by every log line naming the endpoint; the error
  // itself leaves it out.
  assert.throws(
    () => parseEtcdConfig({ ...none, etcd: "http://admin:S3cret@10.0.0.1:2379" }, {}),
    (err: unknown) =>
      err instanceof TypeError &&
      /must not hold a user or password: set ETCD_USERNAME and ETCD_PASSWORD/.test(err.message) &&
      !err.message.includes("S3cret"),
  );
  assert.throws(
    () => parseEtcdConfig({ ...none, etcd: "ftp://10.0.0.1:2379" }, {}),
    /http or https/,
  );
  assert.throws(
    () => parseEtcdConfig({ ...none, etcd: "http://admin:S3cret@10.0.0.1:notaport" }, {}),
    (err: unknown) => err instanceof TypeError && !err.message.includes("S3cret"),
  );
});

test("parseEtcdConfig: --etcd-timeout is named in its errors and fits a timer", () => {
  for (const [text, message] of [
    ["0", /^RangeError: --etcd-timeout must be positive/],
    ["soon", /^RangeError: --etcd-timeout: invalid duration/],
    ["600h", /^RangeError: --etcd-timeout must be at most/],
  ] as const) {
    assert.throws(
      () => parseEtcdConfig({ ...none, etcd: "x:1", "etcd-timeout": text }, {}),
      message,
    );
  }
});

test("etcdOptionSpecs: the auth note is on --etcd, not glued to --etcd-timeout", () => {
  const lines = usage("x", etcdOptionSpecs).split("\n");
  const line = (flag: string) => lines.find((l) => l.startsWith(`  --${flag} `)) ?? "";
  assert.match(line("etcd"), /ETCD_USERNAME\/ETCD_PASSWORD/);
  assert.doesNotMatch(line("etcd-timeout"), /ETCD_USERNAME/);
  assert.match(
    line("etcd-timeout"),
    /deadline of one etcd call \(env GEECACHE_ETCD_TIMEOUT, default 3s\)$/,
  );
});
