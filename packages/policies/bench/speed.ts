/**
 * The speed bench: get/set throughput of every policy beside lru-cache, each implementation in
 * its own child process (so no implementation's JIT state colours another's), on three workloads
 * over string keys:
 *   - zipf: a get per request (Zipf 0.99 over 1M keys), and a set after a miss; capacity 50k
 *   - hit: gets of keys that are all cached (capacity 50k)
 *   - evict: sets of new keys into a full cache, each evicting one entry
 * Each figure is the median of 5 timed runs after a warm-up. A second table gives W-TinyLFU's
 * time per request by how its window adapts, at small to middling sizes (the first 200,000
 * requests of the zipf workload; each adaptation in its own child process).
 *
 *   node --expose-gc bench/speed.ts [--out FILE]
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { LRUCache } from "lru-cache";
import { createCache, createWTinyLFU, type PolicyName, policyNames } from "../src/index.ts";

const CAPACITY = 50_000;
const KEYSPACE = 1_000_000;
const REQUESTS = 1_000_000;
const RUNS = 5;

/** W-TinyLFU's window adaptations, timed per request at each of these entry budgets. */
const ADAPTATIONS = ["simulate", "climb", "fixed"] as const;
type Adaptation = (typeof ADAPTATIONS)[number];
const ADAPT_SIZES = [100, 250, 1_000, 10_000];
const ADAPT_REQUESTS = 200_000;

type Impl = PolicyName | "lru-cache";
const impls: Impl[] = ["lru-cache", ...policyNames];
const workloads = ["zipf", "hit", "evict"] as const;

interface MinimalCache {
  get(key: string): unknown;
  set(key: string, value: Uint8Array): unknown;
}

function make(impl: Impl): MinimalCache {
  if (impl === "lru-cache") return new LRUCache<string, Uint8Array>({ max: CAPACITY });
  return createCache<string, Uint8Array>(impl, { maxEntries: CAPACITY });
}

/** Zipf(0.99) ranks by inverse transform over a precomputed CDF, from a fixed-seed PRNG. */
function zipfKeys(): string[] {
  const cdf = new Float64Array(KEYSPACE);
  let sum = 0;
  for (let i = 0; i < KEYSPACE; i++) {
    sum += 1 / (i + 1) ** 0.99;
    cdf[i] = sum;
  }
  let a = 42;
  const keys: string[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * sum;
    let lo = 0;
    let hi = KEYSPACE - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    keys.push(`key:${lo}`);
  }
  return keys;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Runs one implementation's workloads; prints JSON {workload: Mops/s, hitRatio}. */
function child(impl: Impl): void {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const value = new Uint8Array(16);
  const zipf = zipfKeys();
  const fresh: string[] = [];
  for (let i = 0; i < REQUESTS; i++) fresh.push(`new:${i}`);
  const result: Record<string, number> = {};
  for (const w of workloads) {
    const times: number[] = [];
    let hits = 0;
    for (let run = 0; run <= RUNS; run++) {
      const cache = make(impl);
      let ops = 0;
      hits = 0;
      if (w === "hit" || w === "evict") {
        for (let i = 0; i < CAPACITY; i++) cache.set(`key:${i}`, value);
      }
      gc();
      const t0 = performance.now();
      if (w === "zipf") {
        for (let i = 0; i < REQUESTS; i++) {
          const k = zipf[i]!;
          if (cache.get(k) !== undefined) hits++;
          else cache.set(k, value);
        }
        ops = REQUESTS;
      } else if (w === "hit") {
        for (let r = 0; r < 20; r++) {
          for (let i = 0; i < CAPACITY; i++) if (cache.get(`key:${i}`) !== undefined) hits++;
        }
        ops = 20 * CAPACITY;
      } else {
        for (let i = 0; i < REQUESTS; i++) cache.set(fresh[i]!, value);
        ops = REQUESTS;
      }
      const ms = performance.now() - t0;
      if (run > 0) times.push(ops / ms / 1000);
    }
    result[w] = median(times);
    if (w === "zipf") result.zipfHitRatio = hits / REQUESTS;
  }
  process.stdout.write(JSON.stringify(result));
}

/** Times one window adaptation at each of ADAPT_SIZES; prints JSON {size: ns per request}. */
function adaptChild(adaptation: Adaptation): void {
  const value = new Uint8Array(16);
  const zipf = zipfKeys().slice(0, ADAPT_REQUESTS);
  const adaptive = adaptation === "fixed" ? false : adaptation;
  const result: Record<string, number> = {};
  for (const size of ADAPT_SIZES) {
    const times: number[] = [];
    for (let run = 0; run <= RUNS; run++) {
      const cache = createWTinyLFU<string, Uint8Array>({ maxEntries: size, adaptive });
      const t0 = performance.now();
      for (const k of zipf) if (cache.get(k) === undefined) cache.set(k, value);
      const ms = performance.now() - t0;
      if (run > 0) times.push((ms * 1e6) / ADAPT_REQUESTS);
    }
    result[size] = median(times);
  }
  process.stdout.write(JSON.stringify(result));
}

function main(): void {
  const { values } = parseArgs({
    options: { out: { type: "string" }, child: { type: "string" }, adapt: { type: "string" } },
  });
  if (values.child !== undefined) {
    child(values.child as Impl);
    return;
  }
  if (values.adapt !== undefined) {
    adaptChild(values.adapt as Adaptation);
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const started = Date.now();
  const rows: [Impl, Record<string, number>][] = [];
  for (const impl of impls) {
    const json = execFileSync(process.execPath, ["--expose-gc", self, "--child", impl], {
      encoding: "utf8",
      maxBuffer: 1 << 20,
    });
    rows.push([impl, JSON.parse(json) as Record<string, number>]);
    process.stderr.write(`${impl} done\n`);
  }
  const adapt = new Map<Adaptation, Record<string, number>>();
  for (const a of ADAPTATIONS) {
    const json = execFileSync(process.execPath, [self, "--adapt", a], { encoding: "utf8" });
    adapt.set(a, JSON.parse(json) as Record<string, number>);
    process.stderr.write(`wtinylfu ${a} done\n`);
  }
  const ns = (a: Adaptation, size: number): number => adapt.get(a)![size]!;
  const base = rows[0]![1];
  const lru = rows.find(([i]) => i === "lru")![1];
  const cell = (r: Record<string, number>, w: string): string =>
    `${r[w]!.toFixed(2)} (${(r[w]! / base[w]!).toFixed(2)}× · ${(r[w]! / lru[w]!).toFixed(2)}×)`;
  const out = [
    "## policies: speed beside lru-cache",
    "",
    `Command: \`pnpm --filter @geecache/policies bench\` (speed part: \`node --expose-gc bench/speed.ts\`), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, ${((Date.now() - started) / 1000).toFixed(0)} s; a shared, loaded 2-core machine, so compare within a row rather than across runs.`,
    "",
    `Millions of operations per second, median of ${RUNS} runs, each implementation in its own process; in brackets the ratio to lru-cache ${"(isaacs/node-lru-cache 11)"} and to @geecache/lru. String keys, 16-byte values, entry budget ${CAPACITY.toLocaleString("en-US")}.`,
    "",
    "- zipf: a get per request (Zipf 0.99 over 1M keys, 1M requests) and a set after each miss",
    "- hit: gets of cached keys only",
    "- evict: sets of new keys into a full cache, each evicting one entry",
    "",
    "| implementation | zipf | zipf hit ratio | hit | evict |",
    "|---|--:|--:|--:|--:|",
    ...rows.map(
      ([impl, r]) =>
        `| ${impl === "lru-cache" ? "lru-cache" : impl === "lru" ? "lru (@geecache/lru)" : impl} | ${cell(r, "zipf")} | ${(100 * r.zipfHitRatio!).toFixed(2)}% | ${cell(r, "hit")} | ${cell(r, "evict")} |`,
    ),
    "",
    `W-TinyLFU by how its window adapts: nanoseconds per request (a get, and a set after a miss) over the first ${ADAPT_REQUESTS.toLocaleString("en-US")} requests of the zipf workload, median of ${RUNS} runs, each adaptation in its own process. \`simulate\` is the default, \`climb\` Caffeine's hill climber, \`fixed\` \`adaptive: false\`.`,
    "",
    "| entries | simulate | climb | fixed | simulate / climb |",
    "|--:|--:|--:|--:|--:|",
    ...ADAPT_SIZES.map(
      (size) =>
        `| ${size.toLocaleString("en-US")} | ${ns("simulate", size).toFixed(0)} | ${ns("climb", size).toFixed(0)} | ${ns("fixed", size).toFixed(0)} | ${(ns("simulate", size) / ns("climb", size)).toFixed(1)}× |`,
    ),
    "",
  ].join("\n");
  process.stdout.write(out);
  const target =
    values.out === undefined
      ? resolve(self, "../../../../bench-results/policies-speed.md")
      : resolve(process.env.INIT_CWD ?? process.cwd(), values.out);
  writeFileSync(target, out);
}

main();
