import assert from "node:assert/strict";
import { test } from "node:test";
import { parseBytes, parseDuration } from "./options.ts";

test("parseDuration", () => {
  const cases: [string, number][] = [
    ["250", 250],
    ["300ms", 300],
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    ["1.5s", 1_500],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  for (const bad of ["", "s", "5x", "-1s", "5 m", "1s2"]) {
    assert.throws(() => parseDuration(bad), RangeError, bad);
  }
});

test("parseBytes", () => {
  const cases: [string, number][] = [
    ["1024", 1024],
    ["64MiB", 64 * 2 ** 20],
    ["512KiB", 512 * 1024],
    ["1GB", 1e9],
    ["2kb", 2000],
    ["100k", 102_400],
    ["1.5MiB", 1.5 * 2 ** 20],
  ];
  for (const [text, n] of cases) assert.equal(parseBytes(text), n, text);
  for (const bad of ["", "MiB", "-1", "5 parsecs", "1e6"]) {
    assert.throws(() => parseBytes(bad), RangeError, bad);
  }
});
