// `pnpm start`: a local GeeCache cluster on loopback, three nodes with static peers and a
// gateway, with their logs in one terminal. Ctrl-C stops them all gracefully.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const usage = `Usage: pnpm start [-- options] [-- node flags...]

  --nodes <n>          how many cache nodes (default 3)
  --base-port <port>   port of the first node; the others follow (default 8001)
  --gateway-port <p>   port of the gateway (default 9999)
  --host <host>        interface of every process (default 127.0.0.1)
  -h, --help           this help

Anything after a second "--" goes to every node, e.g. -- --policy s3fifo --demo-delay 1s.`;

let opts;
try {
  opts = parseArgs({
    options: {
      nodes: { type: "string", default: "3" },
      "base-port": { type: "string", default: "8001" },
      "gateway-port": { type: "string", default: "9999" },
      host: { type: "string", default: "127.0.0.1" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    args: process.argv.slice(2).filter((a, i, all) => !(a === "--" && i === 0 && all.length > 1)),
  });
} catch (err) {
  console.error(`${err.message}\n\n${usage}`);
  process.exit(2);
}
if (opts.values.help) {
  console.log(usage);
  process.exit(0);
}
const n = Number(opts.values.nodes);
const basePort = Number(opts.values["base-port"]);
const gatewayPort = Number(opts.values["gateway-port"]);
const { host } = opts.values;
if (!(Number.isInteger(n) && n >= 1 && n <= 64))
  fail(`--nodes must be 1..64, got ${opts.values.nodes}`);
for (const p of [basePort, basePort + n - 1, gatewayPort]) {
  if (!(Number.isInteger(p) && p >= 1 && p <= 65_535)) fail(`invalid port ${p}`);
}
const nodeExtra = opts.positionals;

const nodeMain = fileURLToPath(new URL("../apps/node/dist/main.js", import.meta.url));
const gatewayMain = fileURLToPath(new URL("../apps/gateway/dist/main.js", import.meta.url));
const ports = Array.from({ length: n }, (_, i) => basePort + i);
const peers = ports.map((p) => `${host}:${p}`).join(",");

const children = [];
/** The cache nodes among children (the rest is the gateway). */
const nodeChildren = [];
let stopping = false;

function fail(message) {
  console.error(`local-cluster: ${message}\n\n${usage}`);
  process.exit(2);
}

// pino prints JSON; a terminal wants one short line per event.
const skip = new Set(["level", "time", "pid", "hostname", "msg", "node", "service", "component"]);
const levels = { 10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal" };
function show(name, line) {
  let text = line;
  try {
    const o = JSON.parse(line);
    const rest = Object.entries(o)
      .filter(([k]) => !skip.has(k))
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(" ");
    text = `${(levels[o.level] ?? "").padEnd(5)} ${o.msg ?? ""}${rest ? `  ${rest}` : ""}`;
  } catch {}
  process.stdout.write(`${name.padEnd(13)} ${text}\n`);
}

function start(name, args, readyText) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    if (name.startsWith("node:")) nodeChildren.push(child);
    let ready = false;
    for (const stream of [child.stdout, child.stderr]) {
      let partial = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop();
        for (const line of lines) {
          show(name, line);
          if (!ready && line.includes(readyText)) {
            ready = true;
            resolve();
          }
        }
      });
    }
    child.on("exit", (code, signal) => {
      if (!ready) reject(new Error(`${name} exited before it was ready (${signal ?? code})`));
      else if (stopping) return;
      // A node that dies is what the failover demo is about: the rest keep serving. Without the
      // gateway, or with no node left, there is nothing to try any more.
      const isNode = name.startsWith("node:");
      const nodesLeft = nodeChildren.filter(
        (c) => c.exitCode === null && c.signalCode === null,
      ).length;
      if (isNode && nodesLeft > 0) {
        console.error(
          `local-cluster: ${name} exited (${signal ?? code}); ${nodesLeft} node(s) keep serving`,
        );
      } else {
        console.error(`local-cluster: ${name} exited (${signal ?? code}); stopping the others`);
        stop(1);
      }
    });
  });
}

async function stop(code) {
  if (stopping) return;
  stopping = true;
  const exits = children
    .filter((c) => c.exitCode === null && c.signalCode === null)
    .map((c) => new Promise((resolve) => c.once("exit", resolve)));
  for (const c of children) c.kill("SIGTERM");
  await Promise.all(exits);
  process.exit(code);
}
// on, not once: under `pnpm … start` Ctrl-C reaches this process twice (from the terminal and
// forwarded by pnpm), and with a once handler the second would kill it mid-shutdown. A repeat is
// ignored; the shutdown has its own deadline.
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));

try {
  await Promise.all(
    ports.map((p) =>
      start(
        `node:${p}`,
        [nodeMain, "--host", host, "--port", String(p), "--peers", peers, ...nodeExtra],
        "geecache node listening",
      ),
    ),
  );
  await start(
    `gateway:${gatewayPort}`,
    [gatewayMain, "--host", host, "--port", String(gatewayPort), "--peers", peers],
    "geecache gateway listening",
  );
} catch (err) {
  console.error(`local-cluster: ${err.message}`);
  await stop(1);
}

const base = `http://${host}:${gatewayPort}`;
console.log(`
GeeCache is up: ${n} nodes (${peers}) and a gateway on ${base}. Try:

  curl '${base}/api?key=Tom'            # the first time waits for the slow source
  curl '${base}/api?key=Tom'            # then it is a cache hit
  curl '${base}/api/stats'              # every node's counters

Ctrl-C stops the cluster.
`);
