import assert from "node:assert/strict";
import { test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { type ErrorCode, GeeCacheError } from "@geecache/core";
import { ERROR_CODE_HEADER, fromConnectError, toConnectError } from "./error-codes.ts";

const table: { code: ErrorCode; connect: Code; leaksMessage: boolean }[] = [
  { code: "NOT_FOUND", connect: Code.NotFound, leaksMessage: true },
  { code: "INVALID_ARGUMENT", connect: Code.InvalidArgument, leaksMessage: true },
  { code: "UNKNOWN_GROUP", connect: Code.NotFound, leaksMessage: true },
  { code: "DUPLICATE_GROUP", connect: Code.AlreadyExists, leaksMessage: true },
  { code: "UNAVAILABLE", connect: Code.Unavailable, leaksMessage: true },
  { code: "DEADLINE_EXCEEDED", connect: Code.DeadlineExceeded, leaksMessage: true },
  { code: "CANCELED", connect: Code.Canceled, leaksMessage: true },
  { code: "LOAD_FAILED", connect: Code.Unavailable, leaksMessage: false },
  { code: "INTERNAL", connect: Code.Internal, leaksMessage: false },
];

for (const row of table) {
  test(`${row.code} travels as ${Code[row.connect]} and comes back as ${row.code}`, () => {
    const wire = toConnectError(new GeeCacheError(row.code, "secret detail"));
    assert.equal(wire.code, row.connect);
    assert.equal(wire.metadata.get(ERROR_CODE_HEADER), row.code);
    assert.equal(wire.rawMessage.includes("secret detail"), row.leaksMessage);
    const back = fromConnectError(wire, "10.0.0.1:8001");
    assert.equal(back.code, row.code);
    assert.match(back.message, /^peer 10\.0\.0\.1:8001: /);
  });
}

test("anything that is not a GeeCacheError is internal, without its message", () => {
  const wire = toConnectError(new Error("password=hunter2"));
  assert.equal(wire.code, Code.Internal);
  assert.doesNotMatch(wire.message, /hunter2/);
});

test("errors without the header map by Connect code", () => {
  const cases: [Code, ErrorCode][] = [
    [Code.NotFound, "NOT_FOUND"],
    [Code.Unavailable, "UNAVAILABLE"],
    [Code.DeadlineExceeded, "DEADLINE_EXCEEDED"],
    [Code.Unimplemented, "UNAVAILABLE"],
    [Code.Unknown, "UNAVAILABLE"],
    [Code.Internal, "INTERNAL"],
  ];
  for (const [connect, code] of cases) {
    assert.equal(fromConnectError(new ConnectError("x", connect), "p").code, code);
  }
});

test("an unknown header value is ignored", () => {
  const wire = new ConnectError("x", Code.NotFound, { [ERROR_CODE_HEADER]: "BOGUS" });
  assert.equal(fromConnectError(wire, "p").code, "NOT_FOUND");
});
