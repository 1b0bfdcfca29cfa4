import assert from "node:assert/strict";
import { test } from "node:test";
import {
  hideUserinfo,
  MAX_TIMER_MS,
  parseAddress,
  parseBytes,
  parseBytesFlag,
  parseDuration,
  parseDurationFlag,
  parseLogLevel,
  readOptions,
  usage,
} from "./options.ts";

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
  for (const bad of ["", "s", "5x", "-1s", "5 m", "1s2", "9999999999999999h"]) {
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
  for (const bad of ["", "MiB", "-1", "5 parsecs", "1e6", "99999999999GiB"]) {
    assert.throws(() => parseBytes(bad), RangeError, bad);
  }
});

test("parseAddress normalizes to the ring's spelling", () => {
  assert.equal(parseAddress(" http://10.0.0.1:8001/ "), "10.0.0.1:8001");
  assert.equal(parseAddress("host:08001"), "host:8001");
  assert.equal(parseAddress("[::1]:8001"), "[::1]:8001");
  for (const bad of ["host", "host:0", "host:65536", ":8001", "a b:1"]) {
    assert.throws(() => parseAddress(bad), TypeError, bad);
  }
});

test("readOptions: flag over env over default; a leading -- (from pnpm start --) is skipped", () => {
  const specs = {
    port: { env: "PORT", default: "8001", arg: "<port>", help: "port" },
    host: { env: "HOST", default: "127.0.0.1", arg: "<host>", help: "host" },
    peers: { arg: "<a,b>", help: "peers" },
  };
  const env = { PORT: "9000", HOST: "" };
  for (const argv of [
    ["--port", "8002"],
    ["--", "--port", "8002"],
  ]) {
    const { help, values } = readOptions(specs, argv, env);
    assert.equal(help, false);
    assert.deepEqual(values, { port: "8002", host: "127.0.0.1", peers: undefined }, argv.join(" "));
  }
  assert.equal(readOptions(specs, [], env).values.port, "9000");
  assert.equal(readOptions(specs, ["--", "-h"], env).help, true);
  assert.throws(() => readOptions(specs, ["--nope", "1"], env), TypeError);
  assert.throws(() => readOptions(specs, ["extra"], env), TypeError);
  // Only a leading "--" is skipped; a second one still ends the options.
  assert.throws(() => readOptions(specs, ["--", "--", "--port", "1"], env), TypeError);
});

test("readOptions: given names the options set by a flag or the environment, not by a default", () => {
  const specs = {
    port: { env: "PORT", default: "8001", arg: "<port>", help: "port" },
    weight: { env: "WEIGHT", default: "1", arg: "<n>", help: "weight" },
    id: { arg: "<id>", help: "id" },
  };
  assert.deepEqual([...readOptions(specs, [], { WEIGHT: "" }).given], []);
  assert.deepEqual([...readOptions(specs, ["--id", "a"], { WEIGHT: "2" }).given].sort(), [
    "id",
    "weight",
  ]);
});

test("parseDurationFlag: the flag is named, limits are inclusive, timers past 2^31-1 ms refused", () => {
  assert.equal(parseDurationFlag("--t", "60s", { min: 1, max: 60_000 }), 60_000);
  assert.equal(parseDurationFlag("--t", "0"), 0);
  assert.equal(parseDurationFlag("--t", `${MAX_TIMER_MS}`), MAX_TIMER_MS);
  const bad: [string, Parameters<typeof parseDurationFlag>[2], RegExp][] = [
    ["soon", {}, /^RangeError: --t: invalid duration "soon"/],
    ["0", { min: 1 }, /^RangeError: --t must be positive, got "0"$/],
    ["1s", { min: 2_000 }, /^RangeError: --t must be at least 2s, got "1s"$/],
    [
      "2m",
      { max: 60_000, maxReason: "why" },
      /^RangeError: --t must be at most 60s \(why\), got "2m"$/,
    ],
    // A max of the caller's own without a reason: no reason, not the timer's.
    ["2m", { max: 60_000 }, /^RangeError: --t must be at most 60s, got "2m"$/],
    ["600h", {}, /^RangeError: --t must be at most 2147483647ms \(the longest timer Node keeps/],
  ];
  for (const [text, limits, message] of bad) {
    assert.throws(() => parseDurationFlag("--t", text, limits), RangeError, text);
    assert.throws(() => parseDurationFlag("--t", text, limits), message, text);
  }
});

test("parseBytesFlag: the flag is named and limits are checked", () => {
  assert.equal(parseBytesFlag("--b", "1KiB", { min: 1 }), 1024);
  assert.throws(() => parseBytesFlag("--b", "0", { min: 1 }), /^RangeError: --b must be positive/);
  assert.throws(() => parseBytesFlag("--b", "lots"), /^RangeError: --b: invalid size "lots"/);
  assert.throws(() => parseBytesFlag("--b", "2KiB", { max: 1024 }), /at most 1024 bytes/);
});

test("parseLogLevel: pino's levels only", () => {
  for (const level of ["fatal", "error", "warn", "info", "debug", "trace", "silent"]) {
    assert.equal(parseLogLevel(level), level);
  }
  for (const bad of ["verbose", "INFO", ""]) {
    assert.throws(() => parseLogLevel(bad), /^TypeError: unknown --log-level .*: use fatal, error/);
  }
});

test("usage: one line per flag, its env and default in parentheses", () => {
  const text = usage("x", { port: { env: "PORT", default: "1", arg: "<port>", help: "port" } });
  assert.match(text, /^ {2}--port <port> +port \(env PORT, default 1\)$/m);
});

test("hideUserinfo leaves a URL's user and password out, whatever else is wrong with it", () => {
  assert.equal(
    hideUserinfo("http://admin:S3cret@10.0.0.1:notaport/x"),
    "http://…@10.0.0.1:notaport/x",
  );
  assert.equal(hideUserinfo("http:\\\\u:pw@h/{key}"), "http:\\\\…@h/{key}");
  assert.equal(hideUserinfo("http://h/path@x"), "http://h/path@x");
});
