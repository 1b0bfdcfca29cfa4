import { ConsecutiveBreaker, circuitBreaker, handleWhen, retry } from "cockatiel";
import { Etcd3, type IOptions, isRecoverableError } from "etcd3";
import { DiscoveryError, unavailable } from "./errors.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { type MemberWatch, startWatch, type WatchOptions } from "./member-watch.ts";
import {
  compareRecords,
  membersPrefix,
  type NodeRecord,
  parseRecord,
  validateRecord,
} from "./record.ts";
import { type RegisterOptions, type Registration, startRegistration } from "./registration.ts";

/** EtcdTlsOptions are PEM contents (not paths) for a TLS connection to etcd. */
export interface EtcdTlsOptions {
  /** CA certificate(s) that signed etcd's server certificate. */
  ca: string | Buffer;
  /** Client certificate and key, for etcd's --client-cert-auth. */
  cert?: string | Buffer;
  key?: string | Buffer;
}

/** EtcdDiscoveryOptions configure createEtcdDiscovery. */
export interface EtcdDiscoveryOptions {
  /** etcd client URLs, e.g. ["http://10.0.0.1:2379", "http://10.0.0.2:2379"]. */
  endpoints?: string[];
  /**
   * An etcd3 client of the caller's own, instead of endpoints (then auth, tls and dialTimeoutMs
   * are ignored). close() leaves it open.
   */
  client?: Etcd3;
  /** The cluster name; records live under `<prefix>/<cluster>/nodes/<id>`. */
  cluster: string;
  /** The key prefix; "/geecache" by default. */
  prefix?: string;
  auth?: { username: string; password: string };
  tls?: EtcdTlsOptions;
  /** How long to wait for a connection to etcd; 3,000 ms by default. */
  dialTimeoutMs?: number;
  /** The deadline of every unary etcd call (read, transaction, lease grant/revoke); 3,000 ms. */
  callTimeoutMs?: number;
  /** Upper bound of the delay between re-registration and resync attempts; 2,000 ms. */
  retryMaxDelayMs?: number;
  logger?: Logger;
}

/** EtcdDiscovery registers nodes and watches a cluster's membership in etcd. */
export interface EtcdDiscovery {
  /** The key prefix of this cluster's records, e.g. "/geecache/prod/nodes/". */
  readonly prefix: string;
  /**
   * register publishes record under a lease (TTL options.ttlSec) and keeps it there until
   * close(), re-registering by itself if the lease is lost. startedAtMs defaults to now. It
   * rejects with DiscoveryError DUPLICATE_ID if another live lease holds the id, UNAVAILABLE if
   * etcd does not answer in time.
   */
  register(record: NodeRecord, options?: RegisterOptions): Promise<Registration>;
  /**
   * watch calls onChange with the full, ordered member list: once before it resolves, then after
   * every change (debounced). It rejects with UNAVAILABLE if the first read fails.
   */
  watch(onChange: (members: NodeRecord[]) => void, options?: WatchOptions): Promise<MemberWatch>;
  /** list reads the current members once, ordered by id. */
  list(): Promise<NodeRecord[]>;
  /**
   * close closes every registration (deleting its record) and watch made through this
   * discovery, then the client if the discovery created it.
   */
  close(): Promise<void>;
}

const RETRY_INITIAL_MS = 100;
/** etcd's own ceiling on a lease's TTL (MaxLeaseTTL); a longer one is refused by the server. */
const MAX_LEASE_TTL_SEC = 9_000_000_000;

function clientOptions(options: EtcdDiscoveryOptions, callTimeoutMs: number): IOptions {
  const endpoints = options.endpoints ?? [];
  if (endpoints.length === 0) {
    throw new TypeError("createEtcdDiscovery needs endpoints (or a client)");
  }
  const io: IOptions = {
    hosts: endpoints,
    dialTimeout: options.dialTimeoutMs ?? 3_000, // checked in createEtcdDiscovery
    // Streams (watch, keepalive) live long; every unary call gets a deadline so nothing hangs on
    // a dead etcd.
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
    grpcOptions: {
      // Notice a silently dead connection (a network cut, no RST); etcd tolerates pings every 5s.
      "grpc.keepalive_time_ms": 10_000,
      "grpc.keepalive_timeout_ms": 5_000,
    },
    faultHandling: {
      // etcd3's default opens a host's breaker for 5 s; 1 s lets us notice a returned etcd sooner.
      host: () =>
        circuitBreaker(handleWhen(isRecoverableError), {
          halfOpenAfter: 1_000,
          breaker: new ConsecutiveBreaker(3),
        }),
      global: retry(handleWhen(isRecoverableError), { maxAttempts: 2 }),
    },
  };
  if (options.auth) io.auth = { username: options.auth.username, password: options.auth.password };
  if (options.tls) {
    const buf = (v: string | Buffer) => (typeof v === "string" ? Buffer.from(v) : v);
    io.credentials = {
      rootCertificate: buf(options.tls.ca),
      privateKey: options.tls.key === undefined ? undefined : buf(options.tls.key),
      certChain: options.tls.cert === undefined ? undefined : buf(options.tls.cert),
    };
  }
  return io;
}

/**
 * createEtcdDiscovery connects to etcd (lazily: the first call dials) and returns an
 * EtcdDiscovery for one cluster.
 */
export function createEtcdDiscovery(options: EtcdDiscoveryOptions): EtcdDiscovery {
  if (typeof options !== "object" || options === null) {
    throw new TypeError("createEtcdDiscovery: options must be an object with a cluster");
  }
  const callTimeoutMs = options.callTimeoutMs ?? 3_000;
  const retryMaxMs = options.retryMaxDelayMs ?? 2_000;
  if (!(callTimeoutMs > 0)) throw new RangeError(`callTimeoutMs must be > 0, got ${callTimeoutMs}`);
  const dialTimeoutMs = options.dialTimeoutMs ?? 3_000;
  if (!(dialTimeoutMs > 0)) throw new RangeError(`dialTimeoutMs must be > 0, got ${dialTimeoutMs}`);
  if (!(retryMaxMs >= RETRY_INITIAL_MS)) {
    throw new RangeError(`retryMaxDelayMs must be >= ${RETRY_INITIAL_MS}, got ${retryMaxMs}`);
  }
  const prefix = membersPrefix(options.prefix ?? "/geecache", options.cluster);
  const ownsClient = options.client === undefined;
  const client = options.client ?? new Etcd3(clientOptions(options, callTimeoutMs));
  const logger = options.logger ?? silentLogger;
  const open = new Set<{ close(): Promise<void> }>();
  let closed = false;

  const track = <T extends { close(): Promise<void> }>(thing: T): T => {
    const close = thing.close.bind(thing);
    open.add(thing);
    const wrapped = Object.create(thing) as T;
    // Keep the getters of thing live (Object.create delegates them) and untrack on close.
    Object.defineProperty(wrapped, "close", {
      value: async () => {
        open.delete(thing);
        await close();
      },
    });
    return wrapped;
  };
  const checkOpen = () => {
    if (closed) throw new DiscoveryError("CLOSED", "the etcd discovery is closed");
  };

  return {
    prefix,
    async register(record, registerOptions = {}) {
      checkOpen();
      if (record === null || typeof record !== "object") {
        throw new TypeError(`register needs a NodeRecord, got ${String(record)}`);
      }
      const full: NodeRecord = { ...record, startedAtMs: record.startedAtMs ?? Date.now() };
      validateRecord(full);
      const ttlSec = registerOptions.ttlSec ?? 10;
      if (!(Number.isInteger(ttlSec) && ttlSec >= 1 && ttlSec <= MAX_LEASE_TTL_SEC)) {
        throw new RangeError(
          `ttlSec must be a whole number of seconds from 1 to ${MAX_LEASE_TTL_SEC}, got ${ttlSec}`,
        );
      }
      if (registerOptions.onEvent !== undefined && typeof registerOptions.onEvent !== "function") {
        throw new TypeError("onEvent must be a function");
      }
      const waitForIdMs = registerOptions.waitForIdMs ?? 0;
      if (!(Number.isFinite(waitForIdMs) && waitForIdMs >= 0)) {
        throw new RangeError(`waitForIdMs must be a non-negative number, got ${waitForIdMs}`);
      }
      const registration = await startRegistration(
        {
          client,
          key: prefix + full.id,
          callTimeoutMs,
          logger,
          retryInitialMs: RETRY_INITIAL_MS,
          retryMaxMs,
        },
        full,
        ttlSec,
        waitForIdMs,
        registerOptions.onEvent ?? (() => {}),
      );
      if (closed) {
        await registration.close();
        checkOpen();
      }
      return track(registration);
    },
    async watch(onChange, watchOptions) {
      checkOpen();
      if (typeof onChange !== "function") throw new TypeError("watch needs an onChange function");
      const watch = await startWatch(
        { client, prefix, callTimeoutMs, logger, retryInitialMs: RETRY_INITIAL_MS, retryMaxMs },
        onChange,
        watchOptions,
      );
      if (closed) {
        await watch.close();
        checkOpen();
      }
      return track(watch);
    },
    async list() {
      checkOpen();
      let res: Awaited<ReturnType<ReturnType<Etcd3["getAll"]>["exec"]>>;
      try {
        res = await client
          .getAll()
          .prefix(prefix)
          .options({ deadline: Date.now() + callTimeoutMs })
          .exec();
      } catch (err) {
        throw unavailable(`reading ${prefix}`, err, callTimeoutMs);
      }
      const records: NodeRecord[] = [];
      for (const kv of res.kvs) {
        try {
          records.push(parseRecord(kv.key.toString(), kv.value.toString()));
        } catch (err) {
          logger.warn({ key: kv.key.toString(), err }, "etcd discovery: skipping a bad record");
        }
      }
      return records.sort(compareRecords);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...open].map((thing) => thing.close()));
      open.clear();
      if (ownsClient) client.close();
    },
  };
}
