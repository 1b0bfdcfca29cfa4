import type { Etcd3, IKeyValue, Watcher } from "etcd3";
import { createBackoff } from "./backoff.ts";
import { unavailable } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { compareRecords, type NodeRecord, parseRecord } from "./record.ts";

/** WatchOptions configure a member watch. */
export interface WatchOptions {
  /**
   * How long to gather changes before handing over the list, so a rolling restart does not
   * rebuild the ring once per event; 200 ms by default. The first list is handed over at once.
   */
  debounceMs?: number;
}

/** MemberWatch follows a cluster's members. */
export interface MemberWatch {
  /** members returns the current members, ordered by id (what the next onChange will carry). */
  members(): NodeRecord[];
  /**
   * True while the watch stream is up: from etcd's confirmation, which may come a moment after
   * watch resolves; false while etcd is unreachable (members are kept).
   */
  readonly connected: boolean;
  /** close stops watching; onChange is not called after it resolves. Safe to call twice. */
  close(): Promise<void>;
}

/** WatchContext is what the discovery hands a watch. */
export interface WatchContext {
  client: Etcd3;
  prefix: string;
  callTimeoutMs: number;
  logger: Logger;
  retryInitialMs: number;
  retryMaxMs: number;
}

/**
 * startWatch reads the members under prefix, then watches from the read's revision + 1, so no
 * change between the two is lost, and folds the events into the set. When the stream breaks
 * (etcd down, the revision compacted, etcd wiped) it keeps the last members and resynchronizes:
 * read again, watch again, with backoff. It rejects only if the very first read fails.
 */
export async function startWatch(
  ctx: WatchContext,
  onChange: (members: NodeRecord[]) => void,
  options: WatchOptions = {},
): Promise<MemberWatch> {
  const { client, prefix, logger } = ctx;
  const debounceMs = options.debounceMs ?? 200;
  if (!(Number.isFinite(debounceMs) && debounceMs >= 0)) {
    throw new RangeError(`debounceMs must be a non-negative number, got ${debounceMs}`);
  }
  const members = new Map<string, NodeRecord>();
  const backoff = createBackoff(ctx.retryInitialMs, ctx.retryMaxMs);
  let watcher: Watcher | undefined;
  let connected = false;
  let closed = false;
  let flushTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let lastHanded = "";

  const list = () => [...members.values()].sort(compareRecords);

  const flush = () => {
    flushTimer = undefined;
    if (closed) return;
    const current = list();
    const fingerprint = JSON.stringify(current);
    if (fingerprint === lastHanded) return;
    lastHanded = fingerprint;
    try {
      onChange(current);
    } catch (err) {
      logger.error({ err, prefix }, "etcd watch: onChange threw");
    }
  };
  const changed = () => {
    // Not reset on each event: a steady trickle of changes still gets delivered every debounceMs.
    if (flushTimer === undefined && !closed) flushTimer = setTimeout(flush, debounceMs);
  };

  const upsert = (kv: IKeyValue, into: Map<string, NodeRecord>) => {
    const key = kv.key.toString();
    try {
      const record = parseRecord(key, kv.value.toString());
      into.set(key, record);
    } catch (err) {
      // A bad record is skipped, and replaces nothing: whatever was there is gone from etcd.
      into.delete(key);
      logger.warn({ key, err }, "etcd watch: skipping a bad record");
    }
  };

  // sync replaces the set with a fresh read and starts a watch right after it.
  const sync = async () => {
    let res: Awaited<ReturnType<ReturnType<Etcd3["getAll"]>["exec"]>>;
    try {
      res = await client
        .getAll()
        .prefix(prefix)
        .options({ deadline: Date.now() + ctx.callTimeoutMs })
        .exec();
    } catch (err) {
      throw unavailable(`reading ${prefix}`, err, ctx.callTimeoutMs);
    }
    if (closed) return;
    const fresh = new Map<string, NodeRecord>();
    for (const kv of res.kvs) upsert(kv, fresh);
    members.clear();
    for (const [k, v] of fresh) members.set(k, v);
    const from = (BigInt(res.header.revision) + 1n).toString();
    const w = client.watch().prefix(prefix).startRevision(from).watcher();
    watcher = w;
    w.on("connected", () => {
      if (w === watcher) connected = true;
    });
    w.on("put", (kv) => {
      if (w !== watcher) return;
      upsert(kv, members);
      changed();
    });
    w.on("delete", (kv) => {
      if (w !== watcher) return;
      members.delete(kv.key.toString());
      changed();
    });
    // 'disconnected': the stream broke (etcd unreachable). 'error': etcd cancelled the watch,
    // e.g. because the start revision was compacted. Either way we read again rather than trust
    // the client's resume, which cannot tell a restarted etcd from a wiped one.
    w.on("disconnected", (err) => lose(w, err, true));
    w.on("error", (err) => lose(w, err, false));
  };

  const lose = (w: Watcher, err: Error, detach: boolean) => {
    if (w !== watcher || closed) return;
    watcher = undefined;
    connected = false;
    // Only a disconnected watcher can be detached without a round trip to etcd; a cancelled one
    // is already gone from the client.
    if (detach) void w.cancel().catch(() => {});
    // An etcd restart or outage: the reason at warn, the stack only at debug.
    logger.debug({ prefix, err }, "etcd watch: the stream's error");
    logger.warn(
      { prefix, reason: err.message },
      "etcd watch: lost the stream; keeping the last members",
    );
    resync(0);
  };

  const resync = (delayMs: number) => {
    if (closed) return;
    retryTimer = setTimeout(async () => {
      retryTimer = undefined;
      if (closed) return;
      try {
        await sync();
      } catch (err) {
        if (closed) return;
        logger.debug({ prefix, err }, "etcd watch: resync failed; retrying");
        resync(backoff.next());
        return;
      }
      backoff.reset();
      logger.info({ prefix, members: members.size }, "etcd watch: resynchronized");
      changed();
    }, delayMs);
  };

  await sync();
  flush();

  return {
    members: list,
    get connected() {
      return connected;
    },
    async close() {
      if (closed) return;
      closed = true;
      connected = false;
      clearTimeout(flushTimer);
      clearTimeout(retryTimer);
      const w = watcher;
      watcher = undefined;
      if (w !== undefined) {
        // Cancelling waits for etcd's confirmation; do not hang on a dead etcd.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          w.cancel().catch(() => {}),
          new Promise((resolve) => {
            timer = setTimeout(resolve, ctx.callTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
      }
    },
  };
}
