import { Buffer } from "node:buffer";
import type { Cache, CacheFactory, EvictionReason } from "@geecache/lru";
import { createLRU, lruFactory } from "@geecache/lru";
import { ByteView, resolvedPromise } from "./byte-view.ts";
import { GeeCacheError } from "./errors.ts";
import type { Getter, GetterFunc } from "./getter.ts";
import { isNotFound, normalizeResult } from "./getter.ts";
import type { Logger } from "./logger.ts";
import type { PeerGetResponse, PeerGetter, PeerPicker } from "./peers.ts";
import { abortError, createSharedLoads, raceSignal } from "./shared-load.ts";
import type { CacheStats, GroupStats } from "./stats.ts";

/** DEFAULT_MAX_KEY_BYTES is the default maximum key length: 1024 bytes of UTF-8. */
export const DEFAULT_MAX_KEY_BYTES = 1024;
/** DEFAULT_HOT_CACHE_FRACTION is the default share of maxBytes given to the hot cache. */
export const DEFAULT_HOT_CACHE_FRACTION = 1 / 8;
/** DEFAULT_HOT_CACHE_SAMPLE_RATE: groupcache mirrors one peer value in ten into the hot cache. */
export const DEFAULT_HOT_CACHE_SAMPLE_RATE = 0.1;
/** DEFAULT_NEGATIVE_TTL_MS is how long a "not found" is remembered by default. */
export const DEFAULT_NEGATIVE_TTL_MS = 1000;
/** DEFAULT_NEGATIVE_MAX_ENTRIES bounds the negative cache by default. */
export const DEFAULT_NEGATIVE_MAX_ENTRIES = 10_000;
/**
 * HANDOFF_TIMEOUT_MS caps the call to a key's previous owner (less when peerTimeoutMs or a
 * quarter of loadTimeoutMs is): it answers from its cache, so a slow answer means a busy peer,
 * and the source is asked instead.
 */
const HANDOFF_TIMEOUT_MS = 500;

/** DEFAULT_LOAD_TIMEOUT_MS bounds each getter call by default. */
export const DEFAULT_LOAD_TIMEOUT_MS = 10_000;
/** DEFAULT_PEER_TIMEOUT_MS bounds each fetch from a peer by default. */
export const DEFAULT_PEER_TIMEOUT_MS = 5_000;

/** GroupOptions configure a group (Registry.newGroup). Sizes are bytes, durations milliseconds. */
export interface GroupOptions {
  /** name identifies the group in its registry and on the wire; a non-empty string. */
  name: string;
  /** getter loads keys missing from the cache from the source of truth. */
  getter: Getter | GetterFunc;
  /**
   * maxBytes is the cache budget of the group: main and hot cache together. An entry counts
   * its key's UTF-8 length plus its value's byte length.
   */
  maxBytes: number;
  /**
   * hotCacheFraction is the share of maxBytes given to the hot cache (values owned by other
   * nodes, mirrored here); the main cache gets the rest. Default 1/8; 0 disables the hot cache.
   * Must be in [0, 1).
   */
  hotCacheFraction?: number;
  /**
   * hotCacheSampleRate is the probability that a value fetched from a peer is mirrored into the
   * hot cache. Default 0.1 (groupcache's one in ten); 1 mirrors every value, 0 none.
   */
  hotCacheSampleRate?: number;
  /**
   * ttlMs is how long a loaded value stays cached when its getter gave it no expiry (a result's
   * own ttlMs, or a ByteView's own expiry, wins). Default: none, values stay until evicted.
   */
  ttlMs?: number;
  /** cacheFactory creates both caches, choosing the eviction policy. Default: LRU (lruFactory). */
  cacheFactory?: CacheFactory;
  /** peers picks the owner of a key for this group; default: the registry's picker. */
  peers?: PeerPicker;
  /**
   * negativeTtlMs is how long a "not found" (from the getter or the owner) is remembered, so a
   * missing key does not reach the source on every request. Default 1000; 0 disables.
   */
  negativeTtlMs?: number;
  /** negativeMaxEntries bounds the not-found keys remembered (LRU). Default 10,000. */
  negativeMaxEntries?: number;
  /** maxKeyBytes is the longest key accepted, in UTF-8 bytes. Default 1024. */
  maxKeyBytes?: number;
  /**
   * loadTimeoutMs bounds each getter call: its signal aborts and waiting callers get
   * DEADLINE_EXCEEDED. Default 10,000.
   */
  loadTimeoutMs?: number;
  /**
   * peerTimeoutMs bounds each fetch from a peer; a fetch that runs out counts as a peer error
   * and the key is loaded locally. Default 5,000.
   */
  peerTimeoutMs?: number;
  /**
   * logger receives warn lines about getter calls that fail or run out of loadTimeoutMs, and
   * debug lines about peer errors; default: the registry's, else silent (count only).
   */
  logger?: Logger;
  /** now is the clock in epoch ms used for expiries (tests inject one). Default Date.now. */
  now?: () => number;
  /** random returns a number in [0, 1) for hot cache sampling (tests inject one). Default Math.random. */
  random?: () => number;
}

/** GetOptions tune one Group.get. */
export interface GetOptions {
  /**
   * signal lets this caller stop waiting. The shared load goes on for other callers, and is
   * aborted only when every caller waiting for it aborted.
   */
  signal?: AbortSignal;
  /**
   * fromPeer marks a request a peer forwarded here because it thinks this node owns the key:
   * it is answered from this node's caches or its getter, never forwarded again.
   */
  fromPeer?: boolean;
  /**
   * cacheOnly answers from this node's caches only: a miss is NOT_FOUND, with no load and no
   * peer asked. A new owner asks a key's previous owner so (see PeerPicker.previousOwner).
   */
  cacheOnly?: boolean;
}

/** Group is a named cache namespace with a getter, as groupcache's Group. */
export interface Group {
  /** name is the group's name. */
  readonly name: string;
  /**
   * get returns the value of key: from the main cache, the hot cache, the owner peer, or the
   * getter, in that order. Rejects with a GeeCacheError: NOT_FOUND, INVALID_ARGUMENT (empty or
   * too long key), LOAD_FAILED, CANCELED, DEADLINE_EXCEEDED.
   */
  get(key: string, options?: GetOptions): Promise<ByteView>;
  /**
   * remove drops key from this node's main, hot and negative caches; returns whether a value
   * was held. Other nodes keep their copies (as in groupcache, values are meant to be immutable
   * or to expire).
   */
  remove(key: string): boolean;
  /** stats returns a snapshot of the group's counters. */
  stats(): GroupStats;
}

/** GroupContext is what a registry hands to the groups it creates. */
export interface GroupContext {
  /** peers returns the registry's current picker (it may change). */
  peers: () => PeerPicker;
  logger?: Logger;
}

function invalid(message: string): GeeCacheError {
  return new GeeCacheError("INVALID_ARGUMENT", message);
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw invalid(`${name} must be an integer >= ${min}, got ${String(value)}`);
  }
}

function checkFunction(name: string, value: unknown): void {
  if (typeof value !== "function") throw invalid(`${name} must be a function, got ${typeof value}`);
}

function checkRange(name: string, value: number, min: number, max: number, minOpen = false): void {
  if (
    typeof value !== "number" ||
    Number.isNaN(value) ||
    value > max ||
    (minOpen ? value <= min : value < min)
  ) {
    const low = minOpen ? `> ${min}` : `>= ${min}`;
    throw invalid(`${name} must be a number ${low} and <= ${max}, got ${String(value)}`);
  }
}

interface Counters {
  gets: number;
  hits: number;
  evictions: number;
}

// The hot cache when it is disabled: never holds anything.
function nullCache(): Cache<string, ByteView> {
  const none = (): IterableIterator<never> => [][Symbol.iterator]();
  return {
    size: 0,
    bytes: 0,
    get: () => undefined,
    peek: () => undefined,
    has: () => false,
    set: () => false,
    delete: () => false,
    clear: () => {},
    entries: none,
    keys: none,
  };
}

function toGetter(group: string, getter: Getter | GetterFunc): Getter {
  if (typeof getter === "function") return { get: getter };
  if (getter !== null && typeof getter === "object" && typeof getter.get === "function") {
    return getter;
  }
  throw invalid(`group ${group}: getter must be a function or have a get method`);
}

/** createGroup builds a group; apps call Registry.newGroup, which validates the name's uniqueness. */
export function createGroup(options: GroupOptions, context: GroupContext): Group {
  const name = options.name;
  if (typeof name !== "string" || name === "")
    throw invalid("group name must be a non-empty string");
  const getter = toGetter(name, options.getter);
  const maxBytes = options.maxBytes;
  checkRange(`group ${name}: maxBytes`, maxBytes, 0, Number.MAX_SAFE_INTEGER, true);
  const hotFraction = options.hotCacheFraction ?? DEFAULT_HOT_CACHE_FRACTION;
  checkRange(`group ${name}: hotCacheFraction`, hotFraction, 0, 1);
  if (hotFraction === 1) throw invalid(`group ${name}: hotCacheFraction must be < 1, got 1`);
  const sampleRate = options.hotCacheSampleRate ?? DEFAULT_HOT_CACHE_SAMPLE_RATE;
  checkRange(`group ${name}: hotCacheSampleRate`, sampleRate, 0, 1);
  const ttlMs = options.ttlMs;
  if (ttlMs !== undefined)
    checkRange(`group ${name}: ttlMs`, ttlMs, 0, Number.MAX_SAFE_INTEGER, true);
  const negativeTtlMs = options.negativeTtlMs ?? DEFAULT_NEGATIVE_TTL_MS;
  checkRange(`group ${name}: negativeTtlMs`, negativeTtlMs, 0, Number.MAX_SAFE_INTEGER);
  const negativeMaxEntries = options.negativeMaxEntries ?? DEFAULT_NEGATIVE_MAX_ENTRIES;
  checkInteger(`group ${name}: negativeMaxEntries`, negativeMaxEntries, 1);
  const maxKeyBytes = options.maxKeyBytes ?? DEFAULT_MAX_KEY_BYTES;
  checkInteger(`group ${name}: maxKeyBytes`, maxKeyBytes, 1);
  const loadTimeoutMs = options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
  checkRange(`group ${name}: loadTimeoutMs`, loadTimeoutMs, 0, 2 ** 31 - 1, true);
  const peerTimeoutMs = options.peerTimeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
  checkRange(`group ${name}: peerTimeoutMs`, peerTimeoutMs, 0, 2 ** 31 - 1, true);
  const now = options.now ?? Date.now;
  checkFunction(`group ${name}: now`, now);
  const random = options.random ?? Math.random;
  checkFunction(`group ${name}: random`, random);
  const logger = options.logger ?? context.logger;
  const ownPeers = options.peers;
  if (ownPeers !== undefined) {
    checkFunction(
      `group ${name}: peers.pickPeer`,
      (ownPeers as Partial<PeerPicker> | null)?.pickPeer,
    );
  }
  const peersOf = ownPeers === undefined ? context.peers : () => ownPeers;
  const factory = options.cacheFactory ?? lruFactory;
  checkFunction(`group ${name}: cacheFactory`, factory);

  // A key of n UTF-16 units has at most 3n UTF-8 bytes, so short keys skip the byte count.
  const surelyShortKey = Math.floor(maxKeyBytes / 3);
  const sizeOf = (value: ByteView, key: string) =>
    Buffer.byteLength(key, "utf8") + value.byteLength;

  // Each cache evicts within its own share of maxBytes. groupcache instead lets the main cache
  // borrow the hot cache's unused share and evicts from whichever is over its share of the
  // total; that needs "evict the oldest", which the Cache interface (any policy) does not offer.
  const hotBytes = Math.floor(maxBytes * hotFraction);
  const mainBytes = maxBytes - hotBytes;
  const mainCounters: Counters = { gets: 0, hits: 0, evictions: 0 };
  const hotCounters: Counters = { gets: 0, hits: 0, evictions: 0 };
  const onEvicted = (counters: Counters) => (_k: string, _v: ByteView, reason: EvictionReason) => {
    if (reason === "capacity") counters.evictions++;
  };
  const mainCache = factory<string, ByteView>({
    maxBytes: mainBytes,
    sizeOf,
    now,
    onEvicted: onEvicted(mainCounters),
  });
  const hotCache =
    hotBytes > 0
      ? factory<string, ByteView>({
          maxBytes: hotBytes,
          sizeOf,
          now,
          onEvicted: onEvicted(hotCounters),
        })
      : nullCache();
  const negative =
    negativeTtlMs > 0
      ? createLRU<string, true>({ maxEntries: negativeMaxEntries, ttlMs: negativeTtlMs, now })
      : undefined;

  const stats = {
    gets: 0,
    negativeHits: 0,
    peerLoads: 0,
    peerErrors: 0,
    loads: 0,
    loadsDeduped: 0,
    localLoads: 0,
    localLoadErrs: 0,
    notFound: 0,
    serverRequests: 0,
    handoffs: 0,
    handoffRequests: 0,
  };

  // Fetches keys owned by a peer (falling back to the getter). One flight per key; each peer
  // call has its own deadline, so the flight needs none.
  const peerLoads = createSharedLoads();
  // Calls the getter, shared by local callers and peers' forwarded requests. One per key.
  const getterLoads = createSharedLoads({
    timeoutMs: loadTimeoutMs,
    timeoutMessage: (key) =>
      `group ${name}: loading key ${JSON.stringify(key)} took over ${loadTimeoutMs} ms`,
    // Every waiter gets DEADLINE_EXCEEDED, and a getter that ignores its signal never settles to
    // report it, so the deadline itself is logged, once per load.
    onTimeout: (key) =>
      logger?.warn(
        { group: name, key, timeoutMs: loadTimeoutMs },
        "geecache: getter did not finish within loadTimeoutMs",
      ),
  });

  function notFound(key: string): GeeCacheError {
    return new GeeCacheError("NOT_FOUND", `group ${name}: key ${JSON.stringify(key)} not found`);
  }

  function checkKey(key: string): GeeCacheError | undefined {
    if (typeof key !== "string" || key.length === 0) {
      return invalid(`group ${name}: key must be a non-empty string`);
    }
    if (key.length > surelyShortKey && Buffer.byteLength(key, "utf8") > maxKeyBytes) {
      return invalid(`group ${name}: key is longer than ${maxKeyBytes} bytes (UTF-8)`);
    }
    return undefined;
  }

  // live is view if it has not expired at t. The policy expires entries too; checking here
  // keeps TTLs right whatever the policy does.
  function live(view: ByteView | undefined, t = now()): ByteView | undefined {
    return view !== undefined && (view.expiresAtMs === undefined || view.expiresAtMs > t)
      ? view
      : undefined;
  }

  // lookup checks main then hot cache, counting hits; undefined on a miss. Every valid get
  // looks here once, so main cache gets = gets and cacheHits is derived in stats(): a main hit
  // costs one counter.
  function lookup(key: string): ByteView | undefined {
    let v = live(mainCache.get(key));
    if (v !== undefined) {
      mainCounters.hits++;
      return v;
    }
    if (hotBytes === 0) return undefined;
    hotCounters.gets++;
    v = live(hotCache.get(key));
    if (v !== undefined) hotCounters.hits++;
    return v;
  }

  function populate(cache: Cache<string, ByteView>, key: string, view: ByteView): void {
    if (view.expiresAtMs === undefined) {
      cache.set(key, view);
      return;
    }
    const ttlMs = view.expiresAtMs - now();
    if (ttlMs > 0) cache.set(key, view, { ttlMs });
  }

  function rememberNotFound(key: string): void {
    negative?.set(key, true);
  }

  function loadLocally(
    key: string,
    signal: AbortSignal | undefined,
    countFlight: boolean,
  ): Promise<ByteView> {
    return getterLoads.run(
      key,
      signal,
      async (loadSignal) => {
        // Walk-through: a flight for this key may have finished and populated the cache
        // between our caller's miss and this flight's start; re-checking avoids a second load.
        const cached = live(mainCache.peek(key));
        if (cached !== undefined) return cached;
        if (negative?.has(key)) throw notFound(key);
        const handedOver = await handoff(key, loadSignal);
        if (handedOver !== undefined) {
          stats.handoffs++;
          populate(mainCache, key, handedOver);
          return handedOver;
        }
        let view: ByteView | undefined;
        try {
          view = normalizeResult(
            await getter.get(key, { signal: loadSignal, group: name }),
            now(),
            ttlMs,
          );
        } catch (e) {
          if (isNotFound(e)) view = undefined;
          else if (e instanceof GeeCacheError && e.code === "INVALID_ARGUMENT") {
            // A key the source cannot even be asked for: the caller's mistake, not a failing
            // source, so no warning; nothing is cached.
            throw e;
          } else {
            if (loadSignal.aborted) throw abortError(loadSignal);
            stats.localLoadErrs++;
            // The caller gets LOAD_FAILED (a gateway hides even that); the why is only here.
            if (e instanceof GeeCacheError) {
              // A source that reports its own failure (an origin's 5xx, say) says what failed;
              // its stack is the same every time, and one line per failed load is enough.
              logger?.debug({ group: name, key, err: e }, "geecache: getter failed");
              logger?.warn({ group: name, key, reason: e.message }, "geecache: getter failed");
            } else {
              logger?.warn({ group: name, key, err: e }, "geecache: getter failed");
            }
            const message = e instanceof Error ? e.message : String(e);
            throw new GeeCacheError(
              "LOAD_FAILED",
              `group ${name}: loading key ${JSON.stringify(key)} failed: ${message}`,
              { cause: e },
            );
          }
        }
        if (view === undefined) {
          stats.notFound++;
          rememberNotFound(key);
          throw notFound(key);
        }
        stats.localLoads++;
        populate(mainCache, key, view);
        return view;
      },
      countFlight ? () => stats.loadsDeduped++ : undefined,
    );
  }

  async function fetchFromPeer(
    peer: PeerGetter,
    key: string,
    signal: AbortSignal,
    timeoutMs = peerTimeoutMs,
    cacheOnly = false,
  ): Promise<ByteView> {
    // One controller for both ways the call can end early (the flight aborted, or the peer
    // deadline), with the timer cleared as soon as the call settles.
    const controller = new AbortController();
    const timer = setTimeout(() => {
      const message = `group ${name}: peer ${peer.id} did not answer within ${timeoutMs} ms`;
      controller.abort(new GeeCacheError("DEADLINE_EXCEEDED", message));
    }, timeoutMs);
    // The caller's own deadline is not the peer's: the breaker must not count it as a failure.
    const onAbort = () =>
      controller.abort(
        new GeeCacheError("CANCELED", `group ${name}: the caller stopped waiting`, {
          cause: signal.reason,
        }),
      );
    signal.addEventListener("abort", onAbort, { once: true });
    let res: PeerGetResponse;
    try {
      res = await raceSignal(
        peer.get({ group: name, key }, { signal: controller.signal, timeoutMs, cacheOnly }),
        controller.signal,
      );
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
    // Copied: the transport keeps no handle that could change a cached value.
    return ByteView.from(res.value, { expiresAtMs: res.expiresAtMs });
  }

  // Asks the key's previous owner, if the picker names one, for the value still in its cache;
  // undefined when it has none or cannot answer in time (then the getter loads it, as before).
  async function handoff(key: string, signal: AbortSignal): Promise<ByteView | undefined> {
    let peer: PeerGetter | undefined;
    try {
      peer = peersOf().previousOwner?.(key);
    } catch (e) {
      logger?.warn({ group: name, key, err: e }, "geecache: peers.previousOwner failed");
      return undefined;
    }
    if (peer === undefined) return undefined;
    try {
      // Out of the load's own time: at most a quarter of it, so the getter keeps the rest.
      const timeoutMs = Math.min(peerTimeoutMs, HANDOFF_TIMEOUT_MS, loadTimeoutMs / 4);
      const view = await fetchFromPeer(peer, key, signal, timeoutMs, true);
      // An expired value is no value.
      return live(view);
    } catch (e) {
      if (signal.aborted) throw abortError(signal);
      if (!isNotFound(e)) {
        logger?.debug({ group: name, key, peer: peer.id, err: e }, "geecache: hand-off failed");
      }
      return undefined;
    }
  }

  async function loadFromPeer(
    peer: PeerGetter,
    key: string,
    signal: AbortSignal,
  ): Promise<ByteView> {
    // Re-check inside the flight, as groupcache's load() does: an earlier flight may have
    // filled a cache after our caller's miss and before this flight started.
    const cached = lookupQuiet(key);
    if (cached !== undefined) return cached;
    if (negative?.has(key)) throw notFound(key);
    try {
      const view = await fetchFromPeer(peer, key, signal);
      stats.peerLoads++;
      if (sampleRate > 0 && random() < sampleRate) populate(hotCache, key, view);
      return view;
    } catch (e) {
      if (isNotFound(e)) {
        // The owner answered: the key does not exist. Not a peer error, and no local load.
        stats.peerLoads++;
        stats.notFound++;
        rememberNotFound(key);
        throw notFound(key);
      }
      if (signal.aborted) throw abortError(signal);
      // The owner answered that its source cannot be asked for this key: nor can ours.
      if (e instanceof GeeCacheError && e.code === "INVALID_ARGUMENT") throw e;
      if (e instanceof GeeCacheError && e.code === "LOAD_FAILED") {
        // The owner answered: its source failed. Unlike groupcache, no load here: it would ask
        // the same source again, once from every node that asked the owner, so a failing or
        // overloaded source would get more load just when it can take least.
        logger?.debug({ group: name, key, peer: peer.id, err: e }, "geecache: owner's load failed");
        throw new GeeCacheError(
          "LOAD_FAILED",
          `group ${name}: the owner ${peer.id} could not load key ${JSON.stringify(key)}`,
          { cause: e },
        );
      }
      // As groupcache: a peer that fails is probably boring; count it and load here.
      stats.peerErrors++;
      logger?.debug({ group: name, key, peer: peer.id, err: e }, "geecache: peer fetch failed");
    }
    return loadLocally(key, signal, false);
  }

  // lookupQuiet is lookup without counting: used for re-checks inside a flight and for
  // cache-only gets. An expired main entry must not hide a live hot one.
  function lookupQuiet(key: string): ByteView | undefined {
    const t = now();
    return live(mainCache.peek(key), t) ?? live(hotCache.peek(key), t);
  }

  function get(key: string, getOptions: GetOptions | undefined): Promise<ByteView> {
    const bad = checkKey(key);
    if (bad !== undefined) return Promise.reject(bad);
    if (getOptions?.cacheOnly === true) {
      // A peer taking the key over: counted apart, so hand-offs do not skew gets and hits.
      stats.handoffRequests++;
      const cached = lookupQuiet(key);
      if (cached !== undefined) return Promise.resolve(cached);
      return Promise.reject(
        new GeeCacheError("NOT_FOUND", `group ${name}: key ${JSON.stringify(key)} is not cached`),
      );
    }
    stats.gets++;
    const fromPeer = getOptions?.fromPeer === true;
    if (fromPeer) stats.serverRequests++;
    const hit = lookup(key);
    if (hit !== undefined) return resolvedPromise(hit);
    if (negative?.get(key)) {
      stats.negativeHits++;
      return Promise.reject(notFound(key));
    }
    stats.loads++;
    const signal = getOptions?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      return Promise.reject(new GeeCacheError("INVALID_ARGUMENT", "signal must be an AbortSignal"));
    }
    if (signal?.aborted) return Promise.reject(abortError(signal));
    // The owner is picked before the flight (groupcache picks inside it) so that a key this
    // node owns takes a single flight, the getter's. Callers split by a membership change
    // between two picks only cost one extra load.
    const peer = fromPeer ? undefined : peersOf().pickPeer(key);
    if (peer === undefined) return loadLocally(key, signal, true);
    return peerLoads.run(
      key,
      signal,
      (s) => loadFromPeer(peer, key, s),
      () => stats.loadsDeduped++,
    );
  }

  return {
    name,
    get(key, getOptions) {
      // Documented to reject, never throw: a picker's bug or a bad signal must not escape as a
      // synchronous throw into a caller that only handles the promise.
      try {
        return get(key, getOptions);
      } catch (e) {
        return Promise.reject(GeeCacheError.from(e));
      }
    },
    remove(key) {
      const bad = checkKey(key);
      if (bad !== undefined) throw bad;
      negative?.delete(key);
      const inMain = mainCache.delete(key);
      const inHot = hotCache.delete(key);
      return inMain || inHot;
    },
    stats() {
      const cacheStats = (cache: Cache<string, ByteView>, c: Counters): CacheStats => ({
        bytes: cache.bytes,
        items: cache.size,
        gets: c.gets,
        hits: c.hits,
        evictions: c.evictions,
      });
      mainCounters.gets = stats.gets;
      return {
        ...stats,
        cacheHits: mainCounters.hits + hotCounters.hits,
        hotCacheHits: hotCounters.hits,
        evictions: mainCounters.evictions + hotCounters.evictions,
        mainCache: cacheStats(mainCache, mainCounters),
        hotCache: cacheStats(hotCache, hotCounters),
      };
    },
  };
}
