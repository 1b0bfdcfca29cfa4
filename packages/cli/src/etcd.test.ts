import assert from "node:assert/strict";
import { test } from "node:test";
import { parseEtcdConfig } from "./etcd.ts";

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
});
