/**
 * The trace simulator: replays real cache traces through every policy at several cache sizes,
 * beside Belady's optimal (OPT, the ceiling) and LRU (the floor), prints markdown tables and
 * compares them with published figures (shared/traces/README.md).
 *
 *   node bench/hitratio.ts [--full] [--out FILE] [--traces DIR] [--only NAME,...] [--policies a,b]
 *                          [--window R] [--sketch-seed N] [--hir R]
 *   node bench/hitratio.ts --trace PATH --format arc|lirs|int32|int64|oracleGeneral --sizes 1000,2000
 *
 * Sizes are entries, or bytes for oracleGeneral traces (suffix k, M or G for 2^10, 2^20, 2^30).
 * The default run writes bench-results/policies-hitratio.md (--full adds P12, written to
 * bench-results/policies-hitratio-p12.md so that a default run keeps it); runs
 * of a chosen trace, or with --only, --policies, --window, --sketch-seed or --hir, print only, unless
 * --out names a file. --window R sets the fixed-window W-TinyLFU column's share (0.01 by default);
 * --sketch-seed N hashes keys for both W-TinyLFU sketches with seed N; --hir R sets LIRS's share
 * for resident HIR entries (0.01 by default). Where Caffeine published a W-TinyLFU figure, the
 * policy compared with it is also run with sketch seeds 1 to 10 (not under --sketch-seed).
 * Relative paths are taken from where pnpm was invoked.
 */
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { Cache, CacheOptions } from "@geecache/lru";
import {
  createCache,
  createLIRS,
  createWTinyLFU,
  type PolicyName,
  policyNames,
} from "../src/index.ts";
import { createKeyHasher, mix } from "../src/sketch.ts";
import { nextAccesses, optHits } from "./opt.ts";
import { readTrace, type Trace, type TraceFormat, traceFormats } from "./traces.ts";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
/** Where the user ran the command (pnpm runs scripts in the package directory). */
const cwd = process.env.INIT_CWD ?? process.cwd();

/** A trace of the default run and its sizes, with published figures to compare against. */
interface Job {
  name: string;
  path: string;
  format: TraceFormat;
  sizes: number[];
  /** Published hit ratios (%) per column name and size. */
  published?: Record<string, Record<number, number>>;
  /** Published misses per column name and size (byte-budget traces). */
  publishedMisses?: Record<string, Record<number, number>>;
  full?: boolean;
}

const MiB = 1024 * 1024;

/** The published figures, as shared/traces/README.md collects them. */
const jobs: Job[] = [
  {
    name: "OLTP",
    path: "arc/OLTP.lis.zst",
    format: "arc",
    sizes: [250, 500, 1000, 2000, 5000, 10000, 15000],
    published: {
      "ARC (paper)": { 1000: 38.93, 2000: 46.08, 5000: 55.25, 10000: 61.87, 15000: 65.4 },
      "LRU (paper)": { 1000: 32.83, 2000: 42.47, 5000: 53.65, 10000: 60.7, 15000: 64.63 },
      "MIN (paper)": { 1000: 53.61, 2000: 60.4, 5000: 68.27, 10000: 73.02, 15000: 75.13 },
      "LIRS (paper)": { 1000: 34.8, 2000: 42.51, 5000: 47.14, 10000: 60.35, 15000: 63.99 },
      "OPT (Caffeine)": { 250: 38.47, 500: 46.43, 1000: 53.62, 2000: 60.4 },
      "ARC (Caffeine)": { 250: 21.46, 500: 30.61, 1000: 39.06, 2000: 46.17 },
      "LIRS (Caffeine)": { 250: 18.27, 500: 26.87, 1000: 34.82, 2000: 42.52 },
      "W-TinyLFU (Caffeine)": { 250: 22.76, 500: 29.21, 1000: 35.3, 2000: 41.67 },
      "adaptive W-TinyLFU (Caffeine)": { 250: 24.73, 500: 33.7, 1000: 39.95, 2000: 46.07 },
    },
  },
  {
    name: "gli",
    path: "lirs/gli.trace.gz",
    format: "lirs",
    sizes: [250, 500, 1000, 2000],
    published: {
      "OPT (Caffeine)": { 250: 17.71, 500: 34.33, 1000: 53.15, 2000: 57.96 },
      "LRU (Caffeine)": { 250: 0.91, 500: 0.95, 1000: 11.21, 2000: 57.41 },
      "ARC (Caffeine)": { 250: 1.38, 500: 1.38, 1000: 21.3, 2000: 57.41 },
      "LIRS (Caffeine)": { 250: 15.91, 500: 33.6, 1000: 50.56, 2000: 57.96 },
      "W-TinyLFU (Caffeine)": { 250: 15.15, 500: 33.08, 1000: 50.57, 2000: 57.96 },
    },
  },
  {
    name: "multi3",
    path: "lirs/multi3.trace.gz",
    format: "lirs",
    sizes: [250, 500, 1000],
    published: {
      "OPT (checked)": { 250: 42.05, 500: 48.9, 1000: 56.29 },
      "LRU (checked)": { 250: 17.76, 500: 32.65, 1000: 37.7 },
    },
  },
  {
    name: "sprite",
    path: "lirs/sprite.trace.gz",
    format: "lirs",
    sizes: [250, 500, 1000],
    published: {
      "OPT (checked)": { 250: 74.5, 500: 87.89, 1000: 93.24 },
      "LRU (checked)": { 250: 48.84, 500: 78.3, 1000: 90.64 },
    },
  },
  {
    name: "2_pools",
    path: "lirs/2_pools.trace.gz",
    format: "lirs",
    sizes: [250, 500, 1000],
    published: {
      "OPT (checked)": { 250: 57.93, 500: 62.85, 1000: 68.52 },
      "LRU (checked)": { 250: 41.71, 500: 51.06, 1000: 54.41 },
    },
  },
  {
    name: "loop",
    path: "lirs/loop.trace.gz",
    format: "lirs",
    sizes: [250, 500, 1000],
    published: {
      "OPT (checked)": { 250: 24.68, 500: 49.36, 1000: 98.71 },
      "LRU (checked)": { 250: 0, 500: 0, 1000: 0 },
    },
  },
  {
    name: "web07",
    path: "cache2k/web07.trace.zst",
    format: "int32",
    sizes: [1000, 2000, 5000],
    published: {
      "OPT (checked)": { 1000: 63.59, 2000: 67.97, 5000: 72.91 },
      "LRU (checked)": { 1000: 50.41, 2000: 55.5, 5000: 62.67 },
    },
  },
  {
    name: "web12",
    path: "cache2k/web12.trace.zst",
    format: "int32",
    sizes: [1000, 2000, 5000],
    published: {
      "OPT (checked)": { 1000: 77.75, 2000: 82.34, 5000: 85.61 },
      "LRU (checked)": { 1000: 64.73, 2000: 72.56, 5000: 80.7 },
    },
  },
  {
    name: "scarab-recs",
    path: "misc/scarab-recs.trace.zst",
    format: "int64",
    sizes: [25000, 50000, 100000],
    published: {
      "OPT (checked)": { 25000: 74.79, 50000: 78.63, 100000: 79.25 },
      "LRU (checked)": { 25000: 60.13, 50000: 69.15, 100000: 75.91 },
      "ARC (Caffeine)": { 100000: 76.09 },
      "W-TinyLFU (Caffeine)": { 100000: 71.57 },
    },
  },
  {
    name: "cloudPhysicsIO",
    path: "misc/cloudPhysicsIO.oracleGeneral.bin.zst",
    format: "oracleGeneral",
    sizes: [128 * MiB, 256 * MiB, 512 * MiB, 1024 * MiB],
    publishedMisses: {
      "LRU (libCacheSim)": {
        [128 * MiB]: 93374,
        [256 * MiB]: 89783,
        [512 * MiB]: 81722,
        [1024 * MiB]: 71704,
      },
      "ARC (libCacheSim)": {
        [128 * MiB]: 90252,
        [256 * MiB]: 85861,
        [512 * MiB]: 74297,
        [1024 * MiB]: 64772,
      },
      // libCacheSim's current S3FIFO.c (test_S3FIFO). The traces' README gives the original
      // SOSP code's figures (S3FIFOv0: 89307 / 82387 / 76791 / 70355), which has no spill of a
      // full small queue into main before the first eviction.
      "S3-FIFO (libCacheSim)": {
        [128 * MiB]: 90117,
        [256 * MiB]: 80915,
        [512 * MiB]: 72191,
        [1024 * MiB]: 56045,
      },
      "SIEVE (libCacheSim)": {
        [128 * MiB]: 91699,
        [256 * MiB]: 86720,
        [512 * MiB]: 76707,
        [1024 * MiB]: 64376,
      },
      "Belady (libCacheSim)": {
        [128 * MiB]: 79256,
        [256 * MiB]: 70724,
        [512 * MiB]: 61594,
        [1024 * MiB]: 48974,
      },
    },
  },
  {
    name: "P12",
    path: "arc/P12.lis.zst",
    format: "arc",
    sizes: [8192, 32768, 131072],
    full: true,
    published: {
      "ARC (paper)": { 8192: 7.14, 32768: 15.94, 131072: 38.68 },
      "LRU (paper)": { 8192: 6.22, 32768: 8.93, 131072: 29.21 },
      "LIRS (paper)": { 8192: 6.61, 32768: 15.15, 131072: 40.37 },
    },
  },
];

/**
 * The simulated columns: every policy, W-TinyLFU with Caffeine's hill climber, and W-TinyLFU with
 * a fixed 1% window (Caffeine's older default).
 */
type SimPolicy = PolicyName | "wtinylfu-climb" | "wtinylfu-fixed";
const simPolicies: readonly SimPolicy[] = [...policyNames, "wtinylfu-climb", "wtinylfu-fixed"];
/** The columns whose sketch --sketch-seed and the seed spread reseed. */
const seeded = (p: SimPolicy): boolean => p.startsWith("wtinylfu");

const labels: Record<SimPolicy, string> = {
  lru: "LRU",
  fifo: "FIFO",
  lfu: "LFU",
  arc: "ARC",
  wtinylfu: "W-TinyLFU",
  s3fifo: "S3-FIFO",
  sieve: "SIEVE",
  lirs: "LIRS",
  "wtinylfu-climb": "W-TinyLFU climb",
  "wtinylfu-fixed": "W-TinyLFU 1%",
};

/** Set by --window and --sketch-seed: the fixed window's share, and a seed for W-TinyLFU's key hash. */
let fixedWindow = 0.01;
let sketchSeed: number | undefined;
/** Set by --hir: LIRS's share of the budget for resident HIR entries. */
let hirRatio = 0.01;

/**
 * Sketch seeds over which the comparison with Caffeine's W-TinyLFU figures is repeated: which
 * keys share sketch counters moves a W-TinyLFU by as much as the differences compared, and an
 * adaptive one by more (its climber then steps differently).
 */
const SPREAD_SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

function make(
  policy: SimPolicy,
  options: CacheOptions<number, number>,
  seed = sketchSeed,
): Cache<number, number> {
  let hash: ((key: number) => number) | undefined;
  if (seed !== undefined) {
    const base = createKeyHasher();
    hash = (key) => mix(base(key) ^ seed);
  }
  if (policy === "wtinylfu-fixed") {
    return createWTinyLFU({ ...options, adaptive: false, windowRatio: fixedWindow, hash });
  }
  if (policy === "wtinylfu-climb") return createWTinyLFU({ ...options, adaptive: "climb", hash });
  if (policy === "wtinylfu" && hash !== undefined) return createWTinyLFU({ ...options, hash });
  if (policy === "lirs") return createLIRS({ ...options, hirRatio });
  return createCache(policy, options);
}

/** Result of one trace at one size: hits per policy (and OPT) out of requests. */
interface Row {
  size: number;
  hits: Map<SimPolicy | "opt", number>;
  /** W-TinyLFU's hits with each of SPREAD_SEEDS, where Caffeine published a figure. */
  spread: Map<SimPolicy, number[]>;
}

/** replay runs the trace through one policy: a get per request, and a set after a miss. */
function replay(policy: SimPolicy, trace: Trace, size: number, seed = sketchSeed): number {
  const { keys, sizes } = trace;
  let hits = 0;
  if (sizes === undefined) {
    const cache = make(policy, { maxEntries: size }, seed);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (cache.get(k) !== undefined) hits++;
      else cache.set(k, 1);
    }
  } else {
    const cache = make(policy, { maxBytes: size }, seed);
    const opts = { size: 0 };
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (cache.get(k) !== undefined) {
        hits++;
      } else {
        opts.size = sizes[i]!;
        cache.set(k, 1, opts);
      }
    }
  }
  return hits;
}

function fmtSize(n: number, bytes: boolean): string {
  if (bytes) return `${n / MiB} MiB`;
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

const pct = (hits: number, n: number): number => (100 * hits) / n;
const f2 = (x: number): string => x.toFixed(2);

function runJob(job: Job, path: string, policies: readonly SimPolicy[], out: string[]): void {
  const t0 = performance.now();
  const trace = readTrace(path, job.format);
  const n = trace.keys.length;
  const bytes = trace.sizes !== undefined;
  const next = nextAccesses(trace.keys, trace.unique);
  const rows: Row[] = [];
  for (const size of job.sizes) {
    const hits = new Map<SimPolicy | "opt", number>();
    hits.set("opt", optHits(trace, next, size));
    for (const p of policies) hits.set(p, replay(p, trace, size));
    const spread = new Map<SimPolicy, number[]>();
    if (sketchSeed === undefined) {
      // The policy compared with Caffeine's figure, and our best policy if it has a sketch.
      const [best] = bestOf({ size, hits, spread }, policies);
      for (const [column, figures] of Object.entries(job.published ?? {})) {
        const mine = ours(column);
        if (!isCaffeineTinyLfu(column) || figures[size] === undefined) continue;
        if (mine === undefined || mine === "opt" || !policies.includes(mine)) continue;
        for (const p of seeded(best) ? [mine, best] : [mine]) {
          if (spread.has(p)) continue;
          spread.set(
            p,
            SPREAD_SEEDS.map((seed) => replay(p, trace, size, seed)),
          );
        }
      }
    }
    rows.push({ size, hits, spread });
  }
  const secs = (performance.now() - t0) / 1000;
  out.push(
    `#### ${job.name}`,
    "",
    `\`${job.path}\` (${job.format}): ${n.toLocaleString("en-US")} requests, ${trace.unique.toLocaleString("en-US")} distinct keys; ${secs.toFixed(1)} s for all sizes.`,
    "",
  );
  const cols: (SimPolicy | "opt")[] = ["opt", ...policies];
  const head = ["size", ...cols.map((c) => (c === "opt" ? "OPT" : labels[c]))];
  out.push(
    bytes ? "Hit ratio % by requests (misses below)." : "Hit ratio %.",
    "",
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i === 0 ? "---" : "--:")).join("|")}|`,
  );
  for (const row of rows) {
    const best = Math.max(...policies.map((p) => row.hits.get(p)!));
    const cells = cols.map((c) => {
      const s = f2(pct(row.hits.get(c)!, n));
      return c !== "opt" && row.hits.get(c) === best ? `**${s}**` : s;
    });
    out.push(`| ${fmtSize(row.size, bytes)} | ${cells.join(" | ")} |`);
  }
  out.push("");
  for (const row of rows) {
    const [best, bestHits] = bestOf(row, policies);
    const opt = pct(row.hits.get("opt")!, n);
    const lru = row.hits.get("lru");
    const pub = bestPublished(job, row.size, n);
    summary.vsOpt.push(
      `| ${job.name} | ${fmtSize(row.size, bytes)} | ${f2(opt)} | ${labels[best]} ${f2(pct(bestHits, n))} | ${f2(opt - pct(bestHits, n))} | ${lru === undefined ? "" : f2(pct(bestHits - lru, n))} | ${pub === undefined ? "" : `${pub.column} ${f2(pub.ratio)} (${f2(Math.round(100 * (opt - pub.ratio)) / 100 || 0)})`} |`,
    );
  }
  if (bytes) {
    out.push(
      "Misses:",
      "",
      `| size | ${head.slice(1).join(" | ")} |`,
      `|${head.map((_, i) => (i === 0 ? "---" : "--:")).join("|")}|`,
    );
    for (const row of rows) {
      out.push(
        `| ${fmtSize(row.size, true)} | ${cols.map((c) => n - row.hits.get(c)!).join(" | ")} |`,
      );
    }
    out.push("");
  }
  compare(job, rows, n, policies, out);
}

/** Deltas against published figures, and best-policy gaps, for the summary of one report. */
function newSummary() {
  return {
    arcPaper: [] as number[],
    /** LIRS against the ARC paper's LIRS column and Caffeine's: where, theirs, ours − theirs. */
    lirs: [] as { where: string; theirs: number; d: number }[],
    checked: [] as number[],
    vsCaffeine: [] as string[],
    vsOpt: [] as string[],
  };
}
let summary = newSummary();

/** Maps a published column to the simulated column it is compared with. */
function ours(column: string): SimPolicy | "opt" | undefined {
  const name = column.split(" (")[0]!;
  if (name === "OPT" || name === "MIN" || name === "Belady") return "opt";
  if (name === "W-TinyLFU") return "wtinylfu-fixed";
  if (name.startsWith("adaptive")) return "wtinylfu-climb";
  for (const p of simPolicies) if (labels[p] === name) return p;
  return undefined;
}

/**
 * The highest published hit ratio of an online policy (not OPT/MIN, not a checked value) for
 * this trace and size: the state of the art that "OPT − best" is to be read against.
 */
function bestPublished(
  job: Job,
  size: number,
  requests: number,
): { column: string; ratio: number } | undefined {
  const misses = job.publishedMisses !== undefined;
  let top: { column: string; ratio: number } | undefined;
  for (const [column, figures] of Object.entries(job.published ?? job.publishedMisses ?? {})) {
    const figure = figures[size];
    if (figure === undefined || ours(column) === "opt" || column.includes("(checked)")) continue;
    const ratio = misses ? pct(requests - figure, requests) : figure;
    if (top === undefined || ratio > top.ratio) top = { column, ratio };
  }
  return top;
}

function bestOf(row: Row, policies: readonly SimPolicy[]): [SimPolicy, number] {
  let best = policies[0]!;
  for (const p of policies) if (row.hits.get(p)! > row.hits.get(best)!) best = p;
  return [best, row.hits.get(best)!];
}

function compare(
  job: Job,
  rows: Row[],
  n: number,
  policies: readonly SimPolicy[],
  out: string[],
): void {
  const published = job.published ?? job.publishedMisses;
  if (published === undefined) return;
  const misses = job.publishedMisses !== undefined;
  out.push(
    misses
      ? "Against published misses (ours − theirs, and as a share of requests):"
      : "Against published hit ratios (ours − theirs, percentage points):",
    "",
    `| published | ${rows.map((r) => fmtSize(r.size, misses)).join(" | ")} |`,
    `|---|${rows.map(() => "--:").join("|")}|`,
  );
  for (const [column, figures] of Object.entries(published)) {
    const mine = ours(column);
    if (mine === undefined || (mine !== "opt" && !policies.includes(mine))) continue;
    const cells = rows.map((r) => {
      const theirs = figures[r.size];
      if (theirs === undefined) return "";
      const hits = r.hits.get(mine)!;
      if (misses) {
        const d = n - hits - theirs;
        return `${theirs} (${d >= 0 ? "+" : ""}${d}, ${signed((100 * d) / n)} pp)`;
      }
      const d = pct(hits, n) - theirs;
      if (column === "ARC (paper)") summary.arcPaper.push(d);
      if (mine === "lirs") {
        summary.lirs.push({ where: `${column}, ${job.name} ${fmtSize(r.size, false)}`, theirs, d });
      }
      if (
        column.includes("(checked)") ||
        column.includes("(paper)") ||
        column.startsWith("OPT (")
      ) {
        if (mine === "opt" || mine === "lru") summary.checked.push(d);
      }
      if (isCaffeineTinyLfu(column)) {
        const [best, bestHits] = bestOf(r, policies);
        const db = pct(bestHits, n) - theirs;
        const spread = (p: SimPolicy): string => {
          const seeds = r.spread.get(p)?.map((h) => pct(h, n) - theirs);
          if (seeds === undefined) return "";
          return `${signed(seeds.reduce((a, b) => a + b, 0) / seeds.length)} (${signed(Math.min(...seeds))} to ${signed(Math.max(...seeds))})`;
        };
        summary.vsCaffeine.push(
          `| ${job.name} | ${fmtSize(r.size, false)} | ${column} | ${f2(theirs)} | ${labels[mine as SimPolicy]} ${f2(pct(hits, n))} | ${spread(mine as SimPolicy)} | ${labels[best]} ${f2(pct(bestHits, n))} | ${signed(db)} | ${spread(best)} |`,
        );
      }
      return `${theirs} (${signed(d)})`;
    });
    out.push(
      `| ${column} vs our ${mine === "opt" ? "OPT" : labels[mine]} | ${cells.join(" | ")} |`,
    );
  }
  out.push("");
}

function isCaffeineTinyLfu(column: string): boolean {
  return column === "W-TinyLFU (Caffeine)" || column === "adaptive W-TinyLFU (Caffeine)";
}

/** x with its sign, to 2 decimals; a value that rounds to 0 is +0.00, not -0.00. */
const signed = (x: number): string => {
  const r = Math.round(x * 100) / 100 || 0;
  return `${r >= 0 ? "+" : ""}${f2(r)}`;
};

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kMG]?)$/.exec(s.trim());
  if (m === null) throw new Error(`bad size ${s}`);
  const unit = { "": 1, k: 1024, M: MiB, G: 1024 * MiB }[m[2] as "" | "k" | "M" | "G"];
  return Math.round(Number(m[1]) * unit);
}

function lirsSummary(figures: { where: string; theirs: number; d: number }[]): string {
  if (figures.length === 0) return "- LIRS vs published figures: none in this run.";
  const within = figures.filter((x) => Math.abs(x.d) <= 0.5);
  const outside = figures.filter((x) => Math.abs(x.d) > 0.5);
  const largest = f2(Math.max(0, ...within.map((x) => Math.abs(x.d))));
  return `- **LIRS vs published figures** (the ARC paper's LIRS column, Caffeine's simulator): ${within.length} of ${figures.length} within 0.5 pp, the largest difference ${largest} pp${outside.length === 0 ? "" : `; outside: ${outside.map((x) => `${x.where} (theirs ${f2(x.theirs)}, ours ${f2(x.theirs + x.d)})`).join("; ")}`}.`;
}

/** report renders the summary collected since the last report, then the per-trace sections. */
function report(title: string, argv: string, started: number, out: string[]): string {
  const maxAbs = (xs: number[]): string => f2(Math.max(0, ...xs.map(Math.abs)));
  const lines = [
    `## ${title}`,
    "",
    `Command: \`pnpm --filter @geecache/policies bench:hitratio${argv === "" ? "" : ` ${argv}`}\` (from the repo root; traces from \`../shared/traces\`).`,
    `Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    "Every request is a get; a miss is followed by a set. Cold start, whole trace, unit sizes unless the trace has sizes.",
    `W-TinyLFU is \`createCache("wtinylfu")\` (the window adapts by miniature simulations, the default); ${labels["wtinylfu-climb"]} is \`createWTinyLFU({ adaptive: "climb" })\` (Caffeine's hill climber); ${labels["wtinylfu-fixed"]} is \`createWTinyLFU({ adaptive: false${fixedWindow === 0.01 ? "" : `, windowRatio: ${fixedWindow}`} })\`${sketchSeed === undefined ? "" : `; all three hash keys for the sketch with seed ${sketchSeed}`}.`,
    ...(hirRatio === 0.01 ? [] : [`LIRS is \`createLIRS({ hirRatio: ${hirRatio} })\`.`]),
    "OPT is Belady with bypass (Caffeine's Clairvoyant): it may decline to admit; with sizes it is the Belady-size heuristic. The best policy per row is bold.",
    "The OLTP and P12 traces are from N. Megiddo and D. S. Modha, ARC: A Self-Tuning, Low Overhead Replacement Cache, FAST 2003.",
    "",
    "### Summary",
    "",
    summary.arcPaper.length === 0
      ? "- ARC vs the ARC paper: no trace of the paper in this run."
      : `- **ARC vs the ARC paper** (Megiddo & Modha, FAST 2003, Tables IV and V): ${summary.arcPaper.length} figures, largest difference ${maxAbs(summary.arcPaper)} pp: ${Math.max(...summary.arcPaper.map(Math.abs)) <= 0.5 ? "within" : "**outside**"} the 0.5 pp bar.`,
    lirsSummary(summary.lirs),
    `- **OPT and LRU vs the reference figures** (the paper's MIN and LRU, Caffeine's OPT and LRU, the README's checked values): ${summary.checked.length} figures, largest difference ${maxAbs(summary.checked)} pp.`,
    "",
  ];
  if (summary.vsCaffeine.length > 0) {
    lines.push(
      `Our best policy against Caffeine's published W-TinyLFU figures (same trace and size). Which keys share the sketch's counters moves a W-TinyLFU by as much as these differences, so the same policy, and our best where it has a sketch, are also run with the sketch hashing keys with seeds ${SPREAD_SEEDS[0]} to ${SPREAD_SEEDS.at(-1)} (the \`--sketch-seed\` option): ours − theirs, mean (lowest to highest).`,
      "",
      "| trace | size | published | theirs | ours, same policy | same policy, seeds: ours − theirs | our best | best − theirs | best, seeds: ours − theirs |",
      "|---|--:|---|--:|--:|--:|--:|--:|--:|",
      ...summary.vsCaffeine,
      "",
    );
  }
  lines.push(
    "Our best policy against OPT (the ceiling) and LRU (the floor), hit ratio %, and the best published figure of an online policy for the same trace and size (in brackets: its own distance to OPT):",
    "",
    "| trace | size | OPT | our best | OPT − best | best − LRU | best published |",
    "|---|--:|--:|--:|--:|--:|---|",
    ...summary.vsOpt,
    "",
    "### Per trace",
    "",
    ...out,
  );
  summary = newSummary();
  return `${lines.join("\n")}\n`;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      full: { type: "boolean", default: false },
      out: { type: "string" },
      traces: { type: "string" },
      only: { type: "string" },
      window: { type: "string" },
      "sketch-seed": { type: "string" },
      hir: { type: "string" },
      trace: { type: "string" },
      format: { type: "string" },
      sizes: { type: "string" },
      policies: { type: "string" },
    },
  });
  if (values.window !== undefined) {
    fixedWindow = Number(values.window);
    if (!(fixedWindow >= 0 && fixedWindow <= 1)) throw new Error("--window must be in [0, 1]");
    labels["wtinylfu-fixed"] = `W-TinyLFU ${+(fixedWindow * 100).toFixed(2)}%`;
  }
  if (values["sketch-seed"] !== undefined) {
    sketchSeed = Number(values["sketch-seed"]);
    if (!Number.isSafeInteger(sketchSeed)) throw new Error("--sketch-seed must be an integer");
  }
  if (values.hir !== undefined) {
    hirRatio = Number(values.hir);
    if (!(hirRatio > 0 && hirRatio < 1)) throw new Error("--hir must be in (0, 1)");
    labels.lirs = `LIRS ${+(hirRatio * 100).toFixed(2)}% HIR`;
  }
  const policies = (values.policies?.split(",") ?? [...simPolicies]) as SimPolicy[];
  for (const p of policies) if (!simPolicies.includes(p)) throw new Error(`unknown policy ${p}`);
  const argv = process.argv.slice(2).join(" ");
  const root =
    values.traces === undefined ? join(repoRoot, "../shared/traces") : resolve(cwd, values.traces);
  const started = Date.now();
  const run = (selected: Job[]): string[] => {
    const out: string[] = [];
    for (const job of selected) {
      runJob(job, join(root, job.path), policies, out);
      process.stderr.write(
        `${job.name} done after ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
      );
    }
    return out;
  };

  const chosen =
    values.trace !== undefined ||
    values.only !== undefined ||
    values.policies !== undefined ||
    values.window !== undefined ||
    values["sketch-seed"] !== undefined ||
    values.hir !== undefined;
  if (chosen) {
    // A chosen run: printed, and written only where --out says.
    let out: string[];
    if (values.trace !== undefined) {
      const format = values.format as TraceFormat;
      if (!traceFormats.includes(format)) {
        throw new Error(`--format must be one of ${traceFormats.join(", ")}`);
      }
      if (values.sizes === undefined) throw new Error("--sizes is required with --trace");
      const job: Job = {
        name: values.trace,
        path: resolve(cwd, values.trace),
        format,
        sizes: values.sizes.split(",").map(parseSize),
      };
      out = [];
      runJob(job, job.path, policies, out);
    } else {
      const only = values.only?.split(",");
      out = run(
        jobs.filter((j) => (only === undefined ? !j.full || values.full : only.includes(j.name))),
      );
    }
    const text = report("policies: hit ratios", argv, started, out);
    process.stdout.write(text);
    if (values.out !== undefined) writeFileSync(resolve(cwd, values.out), text);
    return;
  }

  // The default run, and P12 (--full) in a file of its own, so a default run keeps it.
  const text = report(
    "policies: hit ratios on real traces",
    argv,
    started,
    run(jobs.filter((j) => !j.full)),
  );
  process.stdout.write(text);
  writeFileSync(join(repoRoot, "bench-results/policies-hitratio.md"), text);
  if (values.out !== undefined) writeFileSync(resolve(cwd, values.out), text);
  if (values.full) {
    const fullStarted = Date.now();
    const big = report(
      "policies: hit ratios on P12 (--full)",
      argv,
      fullStarted,
      run(jobs.filter((j) => j.full)),
    );
    process.stdout.write(big);
    writeFileSync(join(repoRoot, "bench-results/policies-hitratio-p12.md"), big);
  }
}

main();
