// What a membership change costs the source of truth, with and without hand-off: a real etcd,
// real node processes and a gateway on loopback, and an HTTP origin in this process that counts
// its loads per key. Two changes: a third node joins two, and one node of three restarts.
// Run: pnpm --filter @geecache/gateway bench   (writes bench-results/cluster-handoff.md)
import { mkdirSync, writeFileSync } from "node:fs";
import { startEtcd } from "@geecache/testkit";
import {
  type Cluster,
  ownerIn,
  startCluster,
  startNode,
  startOrigin,
  waitForMembers,
} from "./e2e/cluster.ts";

const KEYS = Number(process.env.BENCH_HANDOFF_KEYS ?? 1_000);

const origin = await startOrigin();
const etcd = await startEtcd();

/** Asks every key once through the gateway, 32 at a time; returns the origin loads it caused. */
async function askAll(cluster: Cluster, keys: readonly string[]): Promise<number> {
  const before = origin.total();
  for (let i = 0; i < keys.length; i += 32) {
    await Promise.all(
      keys.slice(i, i + 32).map(async (key) => {
        const res = await fetch(`${cluster.gatewayUrl}/api?key=${key}`, {
          signal: AbortSignal.timeout(10_000),
        });
        if (!res.ok) throw new Error(`${key}: HTTP ${res.status}`);
        await res.arrayBuffer();
      }),
    );
  }
  return origin.total() - before;
}

interface Outcome {
  moved: number;
  loads: number;
}

async function join(handoff: boolean): Promise<Outcome> {
  const name = `join-${handoff ? "on" : "off"}`;
  const cluster = await startCluster({
    nodes: 2,
    membershipArgs: ["--etcd", etcd.endpoint, "--cluster", name],
    nodeArgs: [...origin.sourceArgs, ...(handoff ? [] : ["--handoff-window", "0"])],
  });
  try {
    const keys = Array.from({ length: KEYS }, (_, i) => `${name}-${i}`);
    await askAll(cluster, keys);
    const { address } = await cluster.addNode();
    await waitForMembers(cluster, cluster.addresses, 3);
    const moved = keys.filter((k) => ownerIn(cluster.addresses, k) === address).length;
    const loads = await askAll(cluster, keys);
    console.log(name, { moved, loads });
    return { moved, loads };
  } finally {
    await cluster.stop();
  }
}

async function restart(handoff: boolean): Promise<Outcome> {
  const name = `restart-${handoff ? "on" : "off"}`;
  const membership = ["--etcd", etcd.endpoint, "--cluster", name];
  const nodeArgs = [...origin.sourceArgs, ...(handoff ? [] : ["--handoff-window", "0"])];
  const cluster = await startCluster({ nodes: 3, membershipArgs: membership, nodeArgs });
  try {
    const keys = Array.from({ length: KEYS }, (_, i) => `${name}-${i}`);
    await askAll(cluster, keys);
    const address = cluster.addresses[2]!;
    const moved = keys.filter((k) => ownerIn(cluster.addresses, k) === address).length;
    await cluster.nodes[2]!.stop();
    const others = cluster.addresses.slice(0, 2);
    await waitForMembers(cluster, others, 2);
    // Its keys load at their owners without it (the cost any cache without replicas pays).
    const whileAway = await askAll(cluster, keys);
    const port = Number(address.split(":").pop());
    cluster.nodes[2] = await startNode(port, [...membership, ...nodeArgs]);
    await waitForMembers(cluster, cluster.addresses, 3);
    const loads = await askAll(cluster, keys);
    console.log(name, { moved, whileAway, loads });
    return { moved, loads };
  } finally {
    await cluster.stop();
  }
}

try {
  const joinOn = await join(true);
  const joinOff = await join(false);
  const restartOn = await restart(true);
  const restartOff = await restart(false);
  const row = (label: string, on: Outcome, off: Outcome) =>
    `| ${label} | ${on.moved} | ${on.loads} | ${off.moved} | ${off.loads} |`;
  const md = `## cluster: loads at the source when the membership changes

Command: \`pnpm --filter @geecache/gateway bench\` · Node ${process.version} · ${new Date().toISOString().slice(0, 10)} · etcd membership, node processes and a gateway on 127.0.0.1, an HTTP origin in the benchmark process that counts its loads. ${KEYS.toLocaleString("en")} keys are asked once through the gateway; then the membership changes, and once every node and the gateway see the new one, every key is asked again. The table counts the origin loads of that second pass, with hand-off (the default, \`--handoff-window 5m\`) and without (\`--handoff-window 0\`).

| change | keys that moved (hand-off) | origin loads (hand-off) | keys that moved (off) | origin loads (off) |
|---|--:|--:|--:|--:|
${row("a third node joins two", joinOn, joinOff)}
${row("one node of three restarts (the pass after it is back)", restartOn, restartOff)}

Without hand-off, every key that moved to a new owner is loaded from the source again: the new owner's cache is cold. With it, the new owner first asks the key's owner before the change for the value, from that node's cache only, and loads only what it does not hold. While a node is away its keys load at the nodes that take them over (its share of the keys, with or without hand-off, not counted above); when it is back it takes them from those nodes.
`;
  console.log(md);
  mkdirSync(new URL("../../../bench-results/", import.meta.url), { recursive: true });
  writeFileSync(new URL("../../../bench-results/cluster-handoff.md", import.meta.url), md);
} finally {
  origin.close();
  await etcd.stop();
}
