// The apps' `start` scripts, run the way pnpm runs them (sh -c, with node_modules/.bin first on
// PATH): SIGTERM to that process must reach the app and stop it gracefully. The `node` dev
// dependency's shim is a shell script that does not forward signals, so a script that ran
// `node dist/main.js` left the app running, orphaned and still registered, when a supervisor
// signalled pnpm's child.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { freePorts } from "@geecache/testkit";

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const groups: number[] = [];
after(() => {
  // Whatever a failed run left behind (an orphaned app) dies with its process group.
  for (const pgid of groups) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {}
  }
});

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function startScriptStops(
  app: "node" | "gateway",
  args: string[],
  port: number,
  signals: NodeJS.Signals[],
) {
  const dir = `${root}apps/${app}`;
  const { scripts } = JSON.parse(readFileSync(`${dir}/package.json`, "utf8")) as {
    scripts: { start: string };
  };
  const child = spawn("sh", ["-c", `${scripts.start} ${args.join(" ")}`], {
    cwd: dir,
    env: { ...process.env, PATH: `${root}node_modules/.bin:${process.env.PATH ?? ""}` },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  groups.push(child.pid!);
  let out = "";
  const seen = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${text}" in:\n${out}`)), 20_000);
      const check = () => {
        if (out.includes(text)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on("data", check);
      child.stderr.on("data", check);
      check();
    });
  child.stdout.setEncoding("utf8").on("data", (s: string) => {
    out += s;
  });
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    out += s;
  });
  await seen("listening");
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  // A repeated signal is sent once the app is shutting down: the moment a once-handler has
  // already been spent.
  for (const [i, signal] of signals.entries()) {
    if (i > 0) await seen("shutting down");
    child.kill(signal);
  }
  assert.equal(await exited, 0, out);
  await seen("stopped");
  assert.equal(await portOpen(port), false, `port ${port} still open:\n${out}`);
}

test("SIGTERM to the process running a node's start script stops the node gracefully", async () => {
  const [port] = await freePorts(1);
  await startScriptStops("node", ["--port", String(port), "--peers", `127.0.0.1:${port}`], port!, [
    "SIGTERM",
  ]);
});

test("SIGTERM to the process running the gateway's start script stops the gateway gracefully", async () => {
  const [port, node] = await freePorts(2);
  await startScriptStops(
    "gateway",
    ["--port", String(port), "--peers", `127.0.0.1:${node}`],
    port!,
    ["SIGTERM"],
  );
});

// Ctrl-C under `pnpm … start` signals the whole process group, and pnpm forwards the SIGINT to
// its child as well: the app gets it twice and must still shut down gracefully.
for (const app of ["node", "gateway"] as const) {
  test(`a ${app} that gets SIGINT twice, as Ctrl-C under pnpm delivers it, still stops gracefully`, async () => {
    const [port, other] = await freePorts(2);
    const peer = app === "node" ? port : other;
    await startScriptStops(app, ["--port", String(port), "--peers", `127.0.0.1:${peer}`], port!, [
      "SIGINT",
      "SIGINT",
    ]);
  });
}
