// One load per key in the whole cluster, counted at the source of truth: an HTTP origin in this
// process counts the requests it gets per key while bursts of concurrent requests for cold keys
// arrive at every node of a real three-node cluster. Beside it, the same three node processes
// without peers: each is then a per-process cache with its own in-flight dedupe, which is what
// a cache library inside each service instance gives (lru-cache's fetch() dedupes per process).
// Run: pnpm --filter @geecache/gateway bench   (writes bench-results/cluster-loads.md)
import { mkdirSync, writeFileSync } from "node:fs";
import { type Cluster, connectGetUrl, startCluster, startOrigin } from "./e2e/cluster.ts";

const KEYS = Number(process.env.BENCH_KEYS ?? 20);
const BURST = Number(process.env.BENCH_BURST ?? 200);
const ORIGIN_DELAY_MS = 50;

// The origin: answers any key after a delay (a slow database), counting requests per key.
const origin = await startOrigin(ORIGIN_DELAY_MS);
const originLoads = origin.loads;
const sourceArgs = origin.sourceArgs;

interface Outcome {
  loadsPerKey: number;
  maxPerKey: number;
  failed: number;
}

// For each of KEYS cold keys, BURST concurrent requests dealt round-robin over the nodes.
async function burst(cluster: Cluster, prefix: string): Promise<Outcome> {
  let failed = 0;
  for (let k = 0; k < KEYS; k++) {
    const key = `${prefix}-${k}`;
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        fetch(connectGetUrl(cluster.addresses[i % cluster.addresses.length]!, key), {
          signal: AbortSignal.timeout(10_000),
        }).then(
          async (r) => r.ok && ((await r.json()) as { value?: string }).value !== undefined,
          () => false,
        ),
      ),
    );
    failed += answers.filter((ok) => !ok).length;
  }
  const counts = [...originLoads].filter(([key]) => key.startsWith(`${prefix}-`)).map(([, n]) => n);
  const total = counts.reduce((a, b) => a + b, 0);
  return { loadsPerKey: total / KEYS, maxPerKey: Math.max(...counts), failed };
}

async function run(name: string, standalone: boolean): Promise<Outcome> {
  const cluster = await startCluster({
    nodeArgs: sourceArgs,
    // Standalone: each node's only peer is itself, three caches that never ask each other.
    standalone,
  });
  try {
    const outcome = await burst(cluster, name);
    console.log(name, outcome);
    return outcome;
  } finally {
    await cluster.stop();
  }
}

try {
  const clustered = await run("cluster", false);
  const standalone = await run("standalone", true);
  const row = (label: string, o: Outcome) =>
    `| ${label} | ${o.loadsPerKey.toFixed(2)} | ${o.maxPerKey} | ${o.failed} |`;
  const md = `## cluster: loads at the source

Command: \`pnpm --filter @geecache/gateway bench\` · Node ${process.version} · ${new Date().toISOString().slice(0, 10)} · ${KEYS} cold keys, each asked ${BURST} times at once, the requests dealt round-robin over three node processes on 127.0.0.1 (Connect GET on each node); the nodes load from an HTTP origin in the benchmark process that answers after ${ORIGIN_DELAY_MS} ms and counts requests per key.

| three node processes | origin loads per key (mean) | most for one key | failed requests |
|---|--:|--:|--:|
${row("as one GeeCache cluster (static peers)", clustered)}
${row("each on its own (no peers: a per-process cache with in-flight dedupe)", standalone)}

Without any cache every request is a load: ${BURST} per key. A per-process cache with in-flight dedupe (each node on its own, or a cache library such as lru-cache's \`fetch()\` inside each service instance) loads each key once per process; the cluster loads it once in all: a non-owner forwards the request to the key's owner, and the owner's singleflight folds every concurrent miss into one getter call.
`;
  console.log(md);
  mkdirSync(new URL("../../../bench-results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("../../../bench-results/cluster-loads.md", import.meta.url), md);
} finally {
  origin.close();
}
