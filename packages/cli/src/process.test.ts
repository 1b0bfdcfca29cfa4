import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

const module = new URL("./process.ts", import.meta.url).href;

/** Runs script (ESM, with this package's process.ts imported as p) in a child Node. */
function run(script: string) {
  const { status, stdout, stderr } = spawnSync(
    process.execPath,
    ["--input-type=module", "-e", `import * as p from ${JSON.stringify(module)};\n${script}`],
    { encoding: "utf8", timeout: 10_000 },
  );
  return { status, stdout, stderr };
}

const logger = `const logger = {
  info: (msg) => console.log("info", msg),
  error: (obj, msg) => console.log("error", msg, obj.err?.message ?? ""),
};`;

test("stopProcess exits 0 after the steps, 1 when they throw or outlive the deadline", () => {
  const ok = run(`${logger} await p.stopProcess(logger, 5_000, async () => {});`);
  assert.equal(ok.status, 0);
  assert.equal(ok.stdout, "info stopped\n");
  const failed = run(
    `${logger} await p.stopProcess(logger, 5_000, async () => { throw new Error("boom"); });`,
  );
  assert.equal(failed.status, 1);
  assert.equal(failed.stdout, "error shutdown failed boom\n");
  // Steps that never finish (and keep the event loop alive) are cut off at the deadline.
  const stuck = run(
    `${logger} setInterval(() => {}, 1_000); await p.stopProcess(logger, 100, () => new Promise(() => {}));`,
  );
  assert.equal(stuck.status, 1);
  assert.equal(stuck.stdout, "error shutdown deadline passed, exiting \n");
});

test("configOrExit returns the config, prints the usage for --help, exits 2 on a bad flag", () => {
  const config = run(`console.log(p.configOrExit("cmd", "Usage: cmd", () => ({ port: 1 })).port);`);
  assert.equal(config.status, 0);
  assert.equal(config.stdout, "1\n");
  const help = run(`p.configOrExit("cmd", "Usage: cmd", () => undefined); console.log("went on");`);
  assert.equal(help.status, 0);
  assert.equal(help.stdout, "Usage: cmd\n");
  const bad = run(
    `p.configOrExit("cmd", "Usage: cmd", () => { throw new RangeError("--port must be positive"); }); console.log("went on");`,
  );
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, "");
  assert.equal(bad.stderr, "cmd: --port must be positive\n\nUsage: cmd\n");
});

test("logCrashes logs an uncaught exception as one fatal line; Node still exits 1", () => {
  const crashed = run(
    `p.logCrashes({ fatal: (obj, msg) => console.log("fatal", msg, obj.origin, obj.err.message) });
    setTimeout(() => { throw new Error("boom"); });
    Promise.reject(new Error("unheard"));`,
  );
  assert.equal(crashed.status, 1);
  assert.equal(crashed.stdout, "fatal uncaught exception, exiting unhandledRejection unheard\n");
  assert.match(crashed.stderr, /Error: unheard/);
});
