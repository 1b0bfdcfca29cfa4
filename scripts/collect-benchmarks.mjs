// Joins the per-package benchmark results (bench-results/*.md, written by each package's `bench`
// script) into BENCHMARKS.md, in a fixed order, so the file always says which command made each table.
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const dir = join(root, "bench-results");
const order = [
  "lru",
  "consistenthash",
  "core",
  "transport-connect",
  "discovery-etcd",
  "cluster",
  "cluster-loads",
  "cluster-handoff",
  "policies-speed",
  "policies-hitratio",
  "policies-hitratio-p12",
];

const files = (await readdir(dir)).filter((f) => f.endsWith(".md"));
const rank = (f) => {
  const i = order.indexOf(f.replace(/\.md$/, ""));
  return i === -1 ? order.length : i;
};
files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

const parts = [
  "# GeeCache benchmarks",
  "",
  "Made by `pnpm bench` (every package's `bench` script, one at a time, then",
  "`node scripts/collect-benchmarks.mjs` joins `bench-results/*.md` here). Each section names the",
  "command that produced it. The machine is a shared 2-core VM: read the ratios between",
  "implementations measured in the same run, not the absolute numbers.",
  "",
];
for (const f of files) {
  parts.push((await readFile(join(dir, f), "utf8")).trim(), "");
}
await writeFile(join(root, "BENCHMARKS.md"), parts.join("\n"));
console.log(`BENCHMARKS.md: ${files.length} sections (${files.join(", ")})`);
