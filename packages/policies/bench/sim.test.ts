import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { nextAccesses, optHits } from "./opt.ts";
import { readTrace, type Trace } from "./traces.ts";

const dir = mkdtempSync(join(tmpdir(), "geecache-traces-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function trace(ids: number[], sizes?: number[]): Trace {
  const dense = new Map<number, number>();
  const keys = Int32Array.from(ids, (id) => {
    if (!dense.has(id)) dense.set(id, dense.size);
    return dense.get(id)!;
  });
  return { keys, sizes: sizes && Float64Array.from(sizes), unique: dense.size };
}

describe("trace readers", () => {
  test("ARC lines expand to count consecutive ids; keys are renumbered densely", () => {
    const path = join(dir, "t.lis.zst");
    writeFileSync(path, zstdCompressSync(Buffer.from("100 3 0 0\n5 1 0 1\n101 2 0 2\n")));
    const t = readTrace(path, "arc");
    assert.deepEqual([...t.keys], [0, 1, 2, 3, 1, 2]);
    assert.equal(t.unique, 4);
  });

  test("LIRS skips blank lines and '*'", () => {
    const path = join(dir, "t.trace.gz");
    writeFileSync(path, gzipSync(Buffer.from("7\n\n*\n8\n7\n")));
    assert.deepEqual([...readTrace(path, "lirs").keys], [0, 1, 0]);
  });

  test("int32 and int64 are big-endian, int64 beyond 2^53 kept exact", () => {
    const b32 = Buffer.alloc(12);
    b32.writeInt32BE(-5, 0);
    b32.writeInt32BE(9, 4);
    b32.writeInt32BE(-5, 8);
    writeFileSync(join(dir, "a.bin"), b32);
    assert.deepEqual([...readTrace(join(dir, "a.bin"), "int32").keys], [0, 1, 0]);
    const b64 = Buffer.alloc(24);
    b64.writeBigInt64BE(2n ** 60n + 1n, 0);
    b64.writeBigInt64BE(2n ** 60n, 8);
    b64.writeBigInt64BE(2n ** 60n + 1n, 16);
    writeFileSync(join(dir, "b.bin"), b64);
    assert.deepEqual([...readTrace(join(dir, "b.bin"), "int64").keys], [0, 1, 0]);
  });

  test("oracleGeneral records carry ids and sizes (little-endian)", () => {
    const b = Buffer.alloc(48);
    for (const [i, id, size] of [
      [0, 42n, 4096],
      [1, 43n, 512],
    ] as const) {
      b.writeUInt32LE(i, i * 24);
      b.writeBigUInt64LE(id, i * 24 + 4);
      b.writeUInt32LE(size, i * 24 + 12);
      b.writeBigInt64LE(-1n, i * 24 + 16);
    }
    writeFileSync(join(dir, "c.bin"), b);
    const t = readTrace(join(dir, "c.bin"), "oracleGeneral");
    assert.deepEqual([...t.keys], [0, 1]);
    assert.deepEqual([...t.sizes!], [4096, 512]);
  });
});

describe("OPT (Belady)", () => {
  test("nextAccesses points at the next request of the same key", () => {
    assert.deepEqual([...nextAccesses(Int32Array.from([0, 1, 0, 2, 1]), 3)], [2, 4, 5, 5, 5]);
  });

  test("evicts the key needed furthest in the future, and bypasses when the newcomer is it", () => {
    // Capacity 2: a b c a b. At c, a (next at 3) and b (4) are cached and c is never needed
    // again, so OPT does not admit c and hits a and b.
    const t = trace([1, 2, 3, 1, 2]);
    assert.equal(optHits(t, nextAccesses(t.keys, t.unique), 2), 2);
    // A loop of 3 keys through 2 slots: OPT keeps 1 and 2 and never admits 3 (LRU: no hit).
    const loop = trace([1, 2, 3, 1, 2, 3, 1, 2, 3]);
    assert.equal(optHits(loop, nextAccesses(loop.keys, loop.unique), 2), 4);
  });

  test("matches a brute-force optimum on small random traces", () => {
    let x = 1;
    for (let round = 0; round < 30; round++) {
      const ids: number[] = [];
      for (let i = 0; i < 12; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        ids.push((x >>> 16) % 5);
      }
      const t = trace(ids);
      const c = 1 + (round % 3);
      assert.equal(optHits(t, nextAccesses(t.keys, t.unique), c), bruteForce(ids, c), ids.join());
    }
  });

  test("with sizes, it keeps the budget in bytes", () => {
    const t = trace([1, 2, 1, 2], [6, 6, 6, 6]);
    assert.equal(optHits(t, nextAccesses(t.keys, t.unique), 10), 1);
    assert.equal(optHits(t, nextAccesses(t.keys, t.unique), 12), 2);
  });
});

/** The best hit count over every choice of what to keep (admission optional), by search. */
function bruteForce(ids: number[], c: number): number {
  const memo = new Map<string, number>();
  const go = (i: number, cache: number[]): number => {
    if (i === ids.length) return 0;
    const key = `${i}:${[...cache].sort().join(",")}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    const id = ids[i]!;
    let best: number;
    if (cache.includes(id)) {
      best = 1 + go(i + 1, cache);
    } else {
      best = go(i + 1, cache); // do not admit
      if (cache.length < c) best = Math.max(best, go(i + 1, [...cache, id]));
      else {
        for (let j = 0; j < cache.length; j++) {
          const next = [...cache];
          next[j] = id;
          best = Math.max(best, go(i + 1, next));
        }
      }
    }
    memo.set(key, best);
    return best;
  };
  return go(0, []);
}
