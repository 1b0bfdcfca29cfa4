// The node's command line as a process: the built dist/main.js (turbo builds it before tests),
// so the exit codes and output an operator sees are the ones checked.
import assert from "node:assert/strict";
import { once } from "node:events";
import http2 from "node:http2";
import { createServer } from "node:net";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort, spawnProcess } from "@geecache/testkit";

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

test("tuning flags reach the running node: TTLs on its groups, HTTP/2 limits on its port", async () => {
  const port = await freePort();
  const node = await spawnProcess({
    name: "node",
    args: [
      main,
      ...["--port", String(port), "--demo-delay", "0", "--ttl", "1h", "--negative-ttl", "0"],
      ...["--max-streams", "3", "--idle-timeout", "300ms"],
    ],
    ready: "geecache node listening",
  });
  try {
    const get = async (key: string) => {
      const message = encodeURIComponent(JSON.stringify({ group: "scores", key }));
      const res = await fetch(
        `http://127.0.0.1:${port}/geecache.v1.CacheService/Get?connect=v1&encoding=json&message=${message}`,
        { signal: AbortSignal.timeout(5_000) },
      );
      return { status: res.status, body: (await res.json()) as { expiresAtMs?: string } };
    };
    // The demo source gives no expiry, so the value carries --ttl's.
    const before = Date.now();
    const tom = await get("Tom");
    assert.equal(tom.status, 200);
    const expiresAt = Number(tom.body.expiresAtMs);
    assert.ok(
      expiresAt >= before + 3_600_000 && expiresAt <= Date.now() + 3_600_000,
      `expiresAtMs ${tom.body.expiresAtMs}, an hour after ${before}`,
    );
    // --negative-ttl 0: a missing key is asked of the source every time (the default 1s would
    // answer the second from the negative cache).
    assert.equal((await get("nobody")).status, 404);
    assert.equal((await get("nobody")).status, 404);
    const stats = (await (await fetch(`http://127.0.0.1:${port}/stats`)).json()) as {
      source: { loads: { missing: number } };
    };
    assert.equal(stats.source.loads.missing, 2);

    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
    const [settings] = (await once(session, "remoteSettings")) as [http2.Settings];
    assert.equal(settings.maxConcurrentStreams, 3);
    // --idle-timeout 300ms: a connection without a frame is closed by the node.
    const closed = once(session, "close").then(() => true);
    const late = new Promise<false>((resolve) => setTimeout(resolve, 10_000, false).unref());
    assert.equal(await Promise.race([closed, late]), true, "idle connection closed by the node");
  } finally {
    await node.stop();
  }
});
