import { readFileSync } from "node:fs";
import { gunzipSync, zstdDecompressSync } from "node:zlib";

/** TraceFormat names the trace formats of shared/traces/README.md. */
export type TraceFormat = "arc" | "lirs" | "int32" | "int64" | "oracleGeneral";

/** traceFormats lists every TraceFormat. */
export const traceFormats: readonly TraceFormat[] = [
  "arc",
  "lirs",
  "int32",
  "int64",
  "oracleGeneral",
];

/** Trace is a decoded trace: keys renumbered densely from 0, and sizes where the format has them. */
export interface Trace {
  /** Dense key of each request. */
  keys: Int32Array;
  /** Object size of each request (oracleGeneral), else undefined. */
  sizes: Float64Array | undefined;
  /** Number of distinct keys. */
  unique: number;
}

/** readTrace reads and decodes a trace file (.zst and .gz are decompressed by extension). */
export function readTrace(path: string, format: TraceFormat): Trace {
  let data: Buffer = readFileSync(path);
  if (path.endsWith(".zst")) data = zstdDecompressSync(data);
  else if (path.endsWith(".gz")) data = gunzipSync(data);
  const ids = new Map<number | bigint, number>();
  const dense = (id: number | bigint): number => {
    let k = ids.get(id);
    if (k === undefined) {
      k = ids.size;
      ids.set(id, k);
    }
    return k;
  };
  const out: number[] = [];
  let sizes: number[] | undefined;
  switch (format) {
    case "arc":
    case "lirs": {
      const text = data.toString("latin1");
      let start = 0;
      while (start < text.length) {
        let end = text.indexOf("\n", start);
        if (end === -1) end = text.length;
        const line = text.slice(start, end).trim();
        start = end + 1;
        if (line === "" || line === "*") continue;
        if (format === "lirs") {
          out.push(dense(Number(line)));
          continue;
        }
        const [first, count] = line.split(/\s+/);
        const base = Number(first);
        const n = Number(count);
        if (!Number.isSafeInteger(base) || !Number.isSafeInteger(n)) {
          throw new Error(`bad ARC trace line: ${line}`);
        }
        for (let i = 0; i < n; i++) out.push(dense(base + i));
      }
      break;
    }
    case "int32":
      for (let i = 0; i + 4 <= data.length; i += 4) out.push(dense(data.readInt32BE(i)));
      break;
    case "int64":
      for (let i = 0; i + 8 <= data.length; i += 8) {
        const hi = data.readInt32BE(i);
        const lo = data.readUInt32BE(i + 4);
        // Most ids fit a double exactly; the rest keep their bigint.
        out.push(dense(Math.abs(hi) < 1 << 20 ? hi * 4294967296 + lo : data.readBigInt64BE(i)));
      }
      break;
    case "oracleGeneral":
      sizes = [];
      for (let i = 0; i + 24 <= data.length; i += 24) {
        const lo = data.readUInt32LE(i + 4);
        const hi = data.readUInt32LE(i + 8);
        out.push(dense(hi < 1 << 20 ? hi * 4294967296 + lo : data.readBigUInt64LE(i + 4)));
        sizes.push(data.readUInt32LE(i + 12));
      }
      break;
    default:
      throw new Error(`unknown trace format ${String(format)}`);
  }
  return {
    keys: Int32Array.from(out),
    sizes: sizes === undefined ? undefined : Float64Array.from(sizes),
    unique: ids.size,
  };
}
