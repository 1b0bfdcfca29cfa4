import assert from "node:assert/strict";
import { test } from "node:test";
import { createBackoff } from "./backoff.ts";
import { compareRecords, encodeRecord, membersPrefix, parseRecord } from "./record.ts";

test("membersPrefix scopes records by cluster", () => {
  assert.equal(membersPrefix("/geecache", "prod"), "/geecache/prod/nodes/");
  assert.equal(membersPrefix("/geecache/", "prod"), "/geecache/prod/nodes/");
  assert.throws(() => membersPrefix("/geecache", ""), TypeError);
  assert.throws(() => membersPrefix("/geecache", "a/b"), TypeError);
});

test("a record survives encode and parse", () => {
  const record = {
    id: "n1",
    address: "10.0.0.1:8001",
    weight: 2,
    version: "1.0.0",
    startedAtMs: 5,
  };
  assert.deepEqual(parseRecord("/g/c/nodes/n1", encodeRecord(record)), record);
  const minimal = { id: "n2", address: "h:1" };
  assert.deepEqual(parseRecord("/g/c/nodes/n2", encodeRecord(minimal)), minimal);
});

test("parseRecord rejects values that must not reach the ring", () => {
  const cases: [string, string, RegExp][] = [
    ["/g/c/nodes/a", "nope", /not JSON/],
    ["/g/c/nodes/a", "[1]", /not a JSON object/],
    ["/g/c/nodes/a", "null", /not a JSON object/],
    ["/g/c/nodes/a", '{"id":"a"}', /address/],
    ["/g/c/nodes/a", '{"id":"a","address":"a b:1"}', /address/],
    ["/g/c/nodes/a", '{"id":"a","address":"::1:1"}', /address/],
    ["/g/c/nodes/a", '{"id":"a","address":"h:1","weight":-1}', /weight/],
    ["/g/c/nodes/a", '{"id":"a","address":"h:1","version":3}', /version/],
    ["/g/c/nodes/a", '{"id":"b","address":"h:1"}', /claims id "b"/],
    ["/g/c/nodes/xa", '{"id":"a","address":"h:1"}', /claims id "a"/],
  ];
  for (const [key, value, message] of cases) {
    assert.throws(() => parseRecord(key, value), message, `${key} = ${value}`);
  }
});

test("compareRecords orders by id, then address", () => {
  const list = [
    { id: "b", address: "h:1" },
    { id: "a", address: "h:2" },
    { id: "a", address: "h:1" },
  ].sort(compareRecords);
  assert.deepEqual(
    list.map((r) => `${r.id}@${r.address}`),
    ["a@h:1", "a@h:2", "b@h:1"],
  );
});

test("backoff doubles up to its cap, with ±20% jitter, and resets", () => {
  let r = 0.5;
  const b = createBackoff(100, 1_000, () => r);
  assert.deepEqual(
    [b.next(), b.next(), b.next(), b.next(), b.next(), b.next()],
    [100, 200, 400, 800, 1_000, 1_000],
  );
  b.reset();
  r = 0;
  assert.equal(b.next(), 80);
  r = 1;
  assert.equal(b.next(), 240);
});
