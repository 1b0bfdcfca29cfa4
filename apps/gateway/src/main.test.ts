// The gateway's command line as a process: the built dist/main.js (turbo builds it before
// tests), so the exit codes and output an operator sees are the ones checked.
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { freePorts, spawnProcess } from "@geecache/testkit";
import { nodeMain } from "./e2e/cluster.ts";

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));

/** listenAnywhere starts a TCP server that accepts connections and never answers. */
async function listenAnywhere(): Promise<{ server: Server; port: number; close(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => sockets.add(s));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  return {
    server,
    port,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

test("a bad flag value is one line naming the flag, the usage, and status 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--timeout", "5m"], /--timeout must be at most 60s/],
    [["--log-level", "verbose"], /--log-level "verbose"/],
    [["--shutdown-grace", "600h"], /--shutdown-grace must be at most/],
  ];
  await Promise.all(
    cases.map(async ([args, message]) => {
      const p = await spawnProcess({ name: "gateway", args: [main, ...args] });
      const what = args.join(" ");
      assert.equal((await p.exited).code, 2, what);
      const lines = p.lines();
      assert.match(lines[0] ?? "", /^geecache-gateway: /, what);
      assert.match(lines[0] ?? "", message, what);
      assert.ok(lines.includes("Usage: geecache-gateway [options]"), what);
      assert.ok(!lines.some((l) => /^\s+at /.test(l)), `${what}: no stack trace`);
    }),
  );
});

test("a port in use is one fatal log line and status 1", async () => {
  const taken = await listenAnywhere();
  try {
    const p = await spawnProcess({
      name: "gateway",
      args: [main, "--port", String(taken.port), "--peers", "127.0.0.1:1"],
    });
    assert.equal((await p.exited).code, 1);
    const fatal = p
      .lines()
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level: number; msg: string; code?: string })
      .filter((l) => l.level === 60);
    assert.equal(fatal.length, 1);
    assert.equal(fatal[0]!.code, "EADDRINUSE");
    assert.match(fatal[0]!.msg, new RegExp(`^cannot listen on 127.0.0.1:${taken.port}: `));
  } finally {
    taken.close();
  }
});

test("past --shutdown-grace, requests in flight are answered 503 and the gateway exits 0", async () => {
  // A node that accepts the connection and never answers: the request waits on it.
  const hung = await listenAnywhere();
  const gatewayPort = await (async () => {
    const free = await listenAnywhere();
    free.close();
    return free.port;
  })();
  try {
    const gateway = await spawnProcess({
      name: "gateway",
      args: [
        main,
        ...["--port", String(gatewayPort), "--peers", `127.0.0.1:${hung.port}`],
        ...["--timeout", "30s", "--shutdown-grace", "300ms", "--access-log", "off"],
      ],
      ready: "geecache gateway listening",
    });
    const answer = fetch(`http://127.0.0.1:${gatewayPort}/api?key=Tom`, {
      signal: AbortSignal.timeout(10_000),
    });
    // The request has reached the gateway once the hung node has a connection.
    while (!(await new Promise<number>((r) => hung.server.getConnections((_e, n) => r(n))))) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const started = performance.now();
    const exited = gateway.stop("SIGTERM", 5_000);
    const res = await answer;
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "UNAVAILABLE");
    assert.deepEqual(await exited, { code: 0, signal: null });
    assert.ok(performance.now() - started < 3_000);
  } finally {
    hung.close();
  }
});

test("within --shutdown-grace, a request in flight on a kept-alive connection is answered and the gateway exits 0 at once", async () => {
  const [nodePort, gatewayPort] = await freePorts(2);
  const node = await spawnProcess({
    name: "node",
    args: [nodeMain, "--port", String(nodePort), "--demo-delay", "500ms"],
    ready: "geecache node listening",
  });
  try {
    const gateway = await spawnProcess({
      name: "gateway",
      args: [
        main,
        ...["--port", String(gatewayPort), "--peers", `127.0.0.1:${nodePort}`],
        ...["--shutdown-grace", "5s", "--access-log", "off"],
      ],
      ready: "geecache gateway listening",
    });
    // fetch keeps the connection alive after the answer.
    const answer = fetch(`http://127.0.0.1:${gatewayPort}/api?key=Tom`);
    await node.waitForLine(/"key":"Tom"/);
    const started = performance.now();
    const exited = gateway.stop("SIGTERM", 10_000);
    const res = await answer;
    assert.equal(res.status, 200);
    assert.deepEqual(await exited, { code: 0, signal: null });
    assert.ok(performance.now() - started < 3_000);
  } finally {
    await node.stop();
  }
});
