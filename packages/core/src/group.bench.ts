// Benchmark: group.get on a cached key (the path every request takes) and on a miss with a
// trivial getter, beside a raw @geecache/lru get measured in the same process and run.
// Run: pnpm --filter @geecache/core bench   (writes bench-results/core.md at the repo root)
import { mkdir, writeFile } from "node:fs/promises";
import { createLRU } from "@geecache/lru";
import { LRUCache as IsaacsLRU } from "lru-cache";
import { ByteView } from "./byte-view.ts";
import { createRegistry } from "./registry.ts";

const KEYS = 10_000;
const OPS = 1_000_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const keys = Array.from({ length: KEYS }, (_, i) => `user:${i}`);
const value = ByteView.from("x".repeat(64));
const sizeOf = (v: ByteView, k: string) => k.length + v.byteLength;
const maxBytes = 64 << 20;

const raw = createLRU<string, ByteView>({ maxBytes, sizeOf });
const isaacs = new IsaacsLRU<string, ByteView>({ maxSize: maxBytes, sizeCalculation: sizeOf });
for (const k of keys) {
  raw.set(k, value);
  isaacs.set(k, value);
}
const registry = createRegistry();
const group = registry.newGroup({ name: "bench", maxBytes, getter: () => value });
for (const k of keys) await group.get(k);
let missSeq = 0;
const missGroup = registry.newGroup({ name: "miss", maxBytes: 1 << 20, getter: () => value });
const missRaw = createLRU<string, ByteView>({ maxBytes: 1 << 20, sizeOf });

// Each measure returns ns per operation; `sink` keeps the engine from dropping the work.
let sink = 0;
type Measure = () => number | Promise<number>;

function timeSync(ops: number, body: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) body(i);
  return Number(process.hrtime.bigint() - t0) / ops;
}

async function timeAsync(ops: number, body: (i: number) => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await body(i);
  return Number(process.hrtime.bigint() - t0) / ops;
}

const measures: [string, Measure][] = [
  [
    "raw @geecache/lru get (sync)",
    () =>
      timeSync(OPS, (i) => {
        sink += raw.get(keys[i % KEYS]!)!.byteLength;
      }),
  ],
  [
    "lru-cache get (sync, reference)",
    () =>
      timeSync(OPS, (i) => {
        sink += isaacs.get(keys[i % KEYS]!)!.byteLength;
      }),
  ],
  [
    "raw lru get + Promise.resolve (sync)",
    () =>
      timeSync(OPS, (i) => {
        sink += Promise.resolve(raw.get(keys[i % KEYS]!)) === undefined ? 0 : 1;
      }),
  ],
  [
    "group.get hit, call only (promise not awaited)",
    () =>
      timeSync(OPS, (i) => {
        sink += group.get(keys[i % KEYS]!) === undefined ? 0 : 1;
      }),
  ],
  [
    "raw lru get + await (async baseline)",
    () =>
      timeAsync(OPS, async (i) => {
        sink += (await raw.get(keys[i % KEYS]!))!.byteLength;
      }),
  ],
  [
    "group.get hit, awaited",
    () =>
      timeAsync(OPS, async (i) => {
        sink += (await group.get(keys[i % KEYS]!)).byteLength;
      }),
  ],
  [
    "raw lru miss + set (sync)",
    () =>
      timeSync(OPS / 10, () => {
        const k = `m${missSeq++}`;
        if (missRaw.get(k) === undefined) missRaw.set(k, value);
      }),
  ],
  [
    "group.get miss, trivial getter, awaited",
    () =>
      timeAsync(OPS / 10, async () => {
        sink += (await missGroup.get(`m${missSeq++}`)).byteLength;
      }),
  ],
];

const results = new Map<string, number[]>(measures.map(([name]) => [name, []]));
// Warm up every path, then interleave rounds so drift on a shared machine hits all alike.
for (const [, m] of measures) await m();
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, m] of measures) results.get(name)!.push(await m());
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const ns = new Map([...results].map(([name, xs]) => [name, median(xs)]));
const base = ns.get("raw @geecache/lru get (sync)")!;
const asyncBase = ns.get("raw lru get + await (async baseline)")!;
const missBase = ns.get("raw lru miss + set (sync)")!;

const fmt = (x: number) => (x < 100 ? x.toFixed(1) : x.toFixed(0));
const rows = [...ns].map(([name, t]) => {
  const vsRaw = name.includes("miss") ? t / missBase : t / base;
  return `| ${name} | ${fmt(t)} | ${(1e3 / t).toFixed(2)} M | ${vsRaw.toFixed(2)}× |`;
});
const hitCall = ns.get("group.get hit, call only (promise not awaited)")!;
const hitAwait = ns.get("group.get hit, awaited")!;
const withPromise = ns.get("raw lru get + Promise.resolve (sync)")!;
const md = `## core

Command: \`pnpm --filter @geecache/core bench\` · Node ${process.version} · ${new Date().toISOString().slice(0, 10)} · median of ${ROUNDS} rounds, ${OPS.toLocaleString("en")} gets per round over ${KEYS.toLocaleString("en")} cached keys (64-byte values); misses: ${(OPS / 10).toLocaleString("en")} fresh keys per round into a 1 MiB group (evicting).

| operation | ns/op | ops/s | vs raw lru (misses: vs raw miss + set) |
|---|---|---|---|
${rows.join("\n")}

- **Cached get, group overhead: ${(hitCall / base).toFixed(2)}× a raw lru get** (goal: under 2×), ${fmt(hitCall - base)} ns more (a few ns either way is this shared machine's noise). The group's own work on a hit: key validation (type and length; the UTF-8 byte count only for keys longer than maxKeyBytes / 3 characters), two counters and the expiry check. An async API must hand back a promise, and a fresh \`Promise.resolve\` would cost ${fmt(withPromise - base)} ns (the "+ Promise.resolve" row); the group avoids it by keeping one settled promise with each cached ByteView, made on its first hit and shared by every later one (a settled promise cannot change).
- **Awaited, ${(hitAwait / asyncBase).toFixed(2)}× a raw get awaited the same way** (below 1× when the shared settled promise saves the wrapper promise that awaiting a plain value allocates). The await itself costs a microtask turn (${fmt(asyncBase - base)} ns here) that any async API pays; against the bare synchronous raw get the awaited group.get is ${(hitAwait / base).toFixed(2)}×.
- **Miss, ${(ns.get("group.get miss, trivial getter, awaited")! / 1e3).toFixed(2)} µs**: validation and lookups in the main, hot and negative caches, a singleflight entry with its AbortController, load timer and abort listeners (the load's no-hang guarantee), about ten promises, the getter call, its result copied into a ByteView and the cache insert with an eviction. Next to any real source of truth (a database round trip is 100 µs or more) this is noise; a trimmed miss path (one shared deadline timer instead of one per load) is possible if a profile ever shows it.
`;

process.stdout.write(`${md}\n`);
const out = new URL("../../../bench-results/", import.meta.url);
await mkdir(out, { recursive: true });
await writeFile(new URL("core.md", out), md);
if (sink === -1) console.log(sink);
