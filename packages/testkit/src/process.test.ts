import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import { freePort, freePorts, spawnProcess } from "./process.ts";

test("freePort returns a port that can be bound", async () => {
  const port = await freePort();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.equal((await freePorts(3)).length, 3);
});

test("spawnProcess waits for the ready line and stop ends the child", async () => {
  const p = await spawnProcess({
    name: "echo",
    args: [
      "-e",
      "console.log('booting'); console.error('ready on 1'); setInterval(() => {}, 1000)",
    ],
    ready: /ready on \d/,
  });
  assert.match(p.output(), /booting/);
  assert.equal(await p.waitForLine("booting"), "booting");
  const status = await p.stop();
  assert.equal(status.signal, "SIGTERM");
  assert.deepEqual(await p.stop(), status);
});

test("spawnProcess rejects with the output when the child exits before it is ready", async () => {
  await assert.rejects(
    spawnProcess({
      name: "dies",
      args: ["-e", "console.log('bye'); process.exit(3)"],
      ready: "never",
    }),
    /dies: exited \(code 3.*\n?bye/s,
  );
});

test("a ready line that never comes times out and the child is killed", async () => {
  await assert.rejects(
    spawnProcess({
      args: ["-e", "setInterval(() => {}, 1000)"],
      ready: "never",
      readyTimeoutMs: 200,
    }),
    /timed out after 200 ms/,
  );
});
