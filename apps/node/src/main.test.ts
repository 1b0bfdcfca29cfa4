// The node's command line as a process: the built dist/main.js (turbo builds it before tests),
// so the exit codes and output an operator sees are the ones checked.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:net";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { spawnProcess } from "@geecache/testkit";

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));

async function run(args: readonly string[]) {
  const p = await spawnProcess({ name: "node", args: [main, ...args] });
  const status = await p.exited;
  return { code: status.code, lines: p.lines() };
}

test("a bad flag value is one line naming the flag, the usage, and status 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--log-level", "verbose"], /--log-level "verbose"/],
    [["--peer-timeout", "0"], /--peer-timeout must be positive/],
    [["--peer-timeout", "2m"], /--peer-timeout must be at most 60s/],
    [
      ["--source", "http", "--origin-url", "http://127.0.0.1:18080/fixed"],
      /--origin-url: .*\{key\}/,
    ],
    [["--shutdown-grace", "600h"], /--shutdown-grace must be at most/],
    [["--weight", "2"], /--weight applies only with --etcd/],
  ];
  await Promise.all(
    cases.map(async ([args, message]) => {
      const { code, lines } = await run(args);
      const what = args.join(" ");
      assert.equal(code, 2, what);
      assert.match(lines[0] ?? "", /^geecache-node: /, what);
      assert.match(lines[0] ?? "", message, what);
      assert.ok(lines.includes("Usage: geecache-node [options]"), what);
      assert.ok(!lines.some((l) => /^\s+at /.test(l)), `${what}: no stack trace`);
    }),
  );
});

test("a port in use is one fatal log line and status 1", async () => {
  const taken = createServer();
  taken.listen(0, "127.0.0.1");
  await once(taken, "listening");
  const { port } = taken.address() as { port: number };
  try {
    const { code, lines } = await run(["--port", String(port)]);
    assert.equal(code, 1);
    const fatal = lines
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level: number; msg: string; code?: string });
    assert.deepEqual(
      fatal.filter((l) => l.level === 60).map((l) => [l.code, l.msg]),
      [
        [
          "EADDRINUSE",
          `cannot listen on 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port}`,
        ],
      ],
    );
  } finally {
    taken.close();
  }
});
