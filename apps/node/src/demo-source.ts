import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@geecache/core";

/**
 * demoTable is the seed's score table, plus a few rows that exercise the edges: a value with an
 * emoji (multi-byte UTF-8) and one that is not valid UTF-8 at all (the gateway answers it base64).
 */
export const demoTable: ReadonlyMap<string, string | Uint8Array> = new Map<
  string,
  string | Uint8Array
>([
  ["Tom", "630"],
  ["Jack", "589"],
  ["Sam", "567"],
  ["Alice", "702"],
  ["Bob", "498"],
  ["Zoë", "🏆 731"],
  ["Blob", Uint8Array.of(0xff, 0xfe, 0x00, 0x80, 0x47)],
]);

/** DemoSourceOptions configure createDemoSource. */
export interface DemoSourceOptions {
  /** The rows; demoTable by default. */
  table?: ReadonlyMap<string, string | Uint8Array>;
  /** How long each lookup takes, so the cache's effect is visible; 300 ms by default. */
  delayMs?: number;
  logger?: Logger;
}

/** DemoLoads counts the getter's lookups, per key of the table, in this process. */
export interface DemoLoads {
  /** Lookups of each table key (only keys that were looked up at least once). */
  byKey: Record<string, number>;
  /** Lookups of keys that are not in the table. */
  missing: number;
}

/** DemoSource is a deliberately slow table lookup, the getter of the demo groups. */
export interface DemoSource {
  /** get is the group getter: the row's value, or null when the key is not in the table. */
  get(
    key: string,
    ctx: { signal: AbortSignal; group: string },
  ): Promise<string | Uint8Array | null>;
  /** loads says which keys this node looked up, so tests can check who loaded what. */
  loads(): DemoLoads;
}

/** createDemoSource returns the demo getter: a slow database that logs each lookup, like the seed's SlowDB. */
export function createDemoSource(options: DemoSourceOptions = {}): DemoSource {
  const table = options.table ?? demoTable;
  const delayMs = options.delayMs ?? 300;
  // Keyed only by table rows, so arbitrary keys sent by clients cannot grow it.
  const byKey = new Map<string, number>();
  let missing = 0;
  return {
    async get(key, { signal, group }) {
      options.logger?.info({ group, key }, `[SlowDB] search key ${key}`);
      const value = table.get(key);
      if (value === undefined) missing++;
      else byKey.set(key, (byKey.get(key) ?? 0) + 1);
      if (delayMs > 0) await sleep(delayMs, undefined, { signal });
      return value ?? null;
    },
    loads: () => ({ byKey: Object.fromEntries(byKey), missing }),
  };
}
