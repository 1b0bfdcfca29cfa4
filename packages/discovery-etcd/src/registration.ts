import { type Etcd3, EtcdLeaseInvalidError, type IKeyValue, type Lease } from "etcd3";
import { createBackoff } from "./backoff.ts";
import { DiscoveryError, unavailable } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { encodeRecord, type NodeRecord, parseRecord } from "./record.ts";

/** RegistrationEvent reports what happens to a registration after register() resolved. */
export type RegistrationEvent =
  /**
   * The lease expired or was revoked behind our back; the record is gone until re-registered.
   * error is a DiscoveryError LEASE_LOST whose cause is etcd3's.
   */
  | { type: "lost"; leaseId: string; error: Error }
  /** The record is back, under a new lease. */
  | { type: "reregistered"; leaseId: string; attempts: number }
  /** A re-registration attempt failed (etcd down, or DUPLICATE_ID); it is retried with backoff. */
  | { type: "error"; error: Error; attempts: number };

/** RegisterOptions configure one registration. */
export interface RegisterOptions {
  /** Lease TTL in whole seconds (etcd's unit); 10 by default, at least 1. */
  ttlSec?: number;
  /**
   * How long register() keeps retrying while another lease holds the id, typically this node's
   * previous process that crashed less than a TTL ago (its record lives until its lease expires).
   * 0 by default: reject with DUPLICATE_ID at once. A live holder keeps its lease, so after the
   * wait the result is still DUPLICATE_ID.
   */
  waitForIdMs?: number;
  /** Called on every RegistrationEvent (besides the logger, which always hears of them). */
  onEvent?: (event: RegistrationEvent) => void;
}

/** Registration is a record kept alive in etcd under a lease. */
export interface Registration {
  readonly key: string;
  readonly record: NodeRecord;
  /** The current lease, as a decimal string; it changes when the lease is re-granted. */
  readonly leaseId: string;
  /** False between a lost lease and the re-registration, and after close(). */
  readonly registered: boolean;
  /**
   * close deletes the record and revokes the lease, so watchers see the node leave at once. If
   * etcd cannot be reached it stops the keepalive, logs, and resolves: the record then expires
   * with the lease TTL. Safe to call more than once.
   */
  close(): Promise<void>;
}

/**
 * leaseLost words a lost lease for the logs and the lost event. etcd3 reports a lease it could
 * not renew for 2 × TTL as "Lease We lost connection to etcd and our lease has expired. is expired
 * or revoked" (a sentence passed where it expects a lease id); the cause keeps it.
 */
function leaseLost(id: string, ttlSec: number, cause: Error): DiscoveryError {
  const reason = cause.message.includes("lost connection to etcd")
    ? `etcd could not be reached for over ${2 * ttlSec} s (2 × TTL), so the lease is given up (etcd may not have expired it yet)`
    : cause instanceof EtcdLeaseInvalidError
      ? "etcd reports it expired or revoked"
      : cause.message;
  return new DiscoveryError("LEASE_LOST", `lease ${id} lost: ${reason}`, { cause });
}

/** RegistrationContext is what the discovery hands a registration. */
export interface RegistrationContext {
  client: Etcd3;
  key: string;
  callTimeoutMs: number;
  logger: Logger;
  retryInitialMs: number;
  retryMaxMs: number;
}

// Leases this registration granted earlier (a previous incarnation that we gave up on locally,
// but that etcd may still hold, e.g. restored with a fresh TTL after an etcd restart). A record
// under one of them is ours to take over, not a duplicate.
const MAX_OWN_LEASES = 16;

/**
 * startRegistration grants a lease, claims the key with a transaction (create only if absent, or
 * held by one of our own earlier leases), and keeps it: on a lost lease it re-grants and
 * re-claims with backoff until close().
 */
export async function startRegistration(
  ctx: RegistrationContext,
  record: NodeRecord,
  ttlSec: number,
  waitForIdMs: number,
  onEvent: (event: RegistrationEvent) => void,
): Promise<Registration> {
  const { client, key, logger } = ctx;
  const value = encodeRecord(record);
  const ownLeases: string[] = [];
  const deadline = () => ({ deadline: Date.now() + ctx.callTimeoutMs });
  let lease: Lease | undefined;
  let leaseId = "";
  let registered = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const backoff = createBackoff(ctx.retryInitialMs, ctx.retryMaxMs);

  const emit = (event: RegistrationEvent) => {
    try {
      onEvent(event);
    } catch (err) {
      logger.error({ err, key }, "etcd registration: onEvent threw");
    }
  };

  // claim runs one attempt; on success lease/leaseId point at the new lease.
  const claim = async (): Promise<void> => {
    const next = client.lease(ttlSec, deadline());
    let id: string;
    try {
      id = await next.grant();
    } catch (err) {
      next.release();
      throw unavailable(`granting a ${ttlSec}s lease`, err, ctx.callTimeoutMs);
    }
    try {
      await put(id);
    } catch (err) {
      // Revoke the fresh lease; if etcd is unreachable it simply expires.
      await next.revoke(deadline()).catch(() => next.release());
      throw err;
    }
    ownLeases.push(id);
    if (ownLeases.length > MAX_OWN_LEASES) ownLeases.shift();
    lease = next;
    leaseId = id;
    registered = true;
    backoff.reset();
    next.on("lost", (err: Error) => onLost(next, id, err));
  };

  const put = async (id: string): Promise<void> => {
    let txn: Awaited<ReturnType<ReturnType<Etcd3["if"]>["commit"]>>;
    try {
      txn = await client
        .if(key, "Create", "==", 0)
        .then(client.put(key).value(value).lease(id))
        .else(client.get(key))
        .options(deadline())
        .commit();
    } catch (err) {
      throw unavailable(`registering ${key}`, err, ctx.callTimeoutMs);
    }
    if (txn.succeeded) return;
    const holder: IKeyValue | undefined = txn.responses[0]?.response_range?.kvs[0];
    if (holder === undefined) {
      // Deleted between the compare and the read; the next attempt will find it free.
      throw new DiscoveryError("UNAVAILABLE", `registering ${key}: key vanished during the claim`);
    }
    if (holder.lease !== "0" && ownLeases.includes(holder.lease)) {
      let moved: { succeeded: boolean };
      try {
        moved = await client
          .if(key, "Lease", "==", holder.lease)
          .then(client.put(key).value(value).lease(id))
          .options(deadline())
          .commit();
      } catch (err) {
        throw unavailable(`re-registering ${key}`, err, ctx.callTimeoutMs);
      }
      if (!moved.succeeded) {
        throw new DiscoveryError("UNAVAILABLE", `re-registering ${key}: the key changed meanwhile`);
      }
      logger.info(
        { key, oldLease: holder.lease, lease: id },
        "etcd registration: took over own record",
      );
      void client.leaseClient.leaseRevoke({ ID: holder.lease }, deadline()).catch(() => {});
      return;
    }
    let existing: NodeRecord | undefined;
    try {
      existing = parseRecord(key, holder.value.toString());
    } catch {
      existing = undefined;
    }
    throw new DiscoveryError(
      "DUPLICATE_ID",
      `node id ${JSON.stringify(record.id)} is already registered at ${key} by lease ${holder.lease}` +
        (existing ? ` (address ${existing.address})` : ""),
      { existing },
    );
  };

  // etcd3 may report one loss more than once (two keepalive loops both notice the expiry after
  // a long outage). Only the first report of the current lease starts a re-registration: it sets
  // registered to false, and only a successful claim, which replaces the lease, sets it back.
  const onLost = (which: Lease, id: string, err: Error) => {
    if (closed || which !== lease || !registered) return;
    registered = false;
    const error = leaseLost(id, ttlSec, err);
    logger.warn(
      { key, lease: id, reason: error.message },
      "etcd registration: lease lost; re-registering",
    );
    emit({ type: "lost", leaseId: id, error });
    retry(0, 0);
  };

  const retry = (attempts: number, delayMs: number) => {
    if (closed) return;
    retryTimer = setTimeout(async () => {
      retryTimer = undefined;
      if (closed) return;
      try {
        await claim();
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        if (closed) return;
        const delayMs = backoff.next();
        // An outage fails an attempt every retryMaxMs: a short warn line (no stack; pino would
        // also repeat the cause's message, which ours already contains) at attempts 1, 2, 4,
        // 8, ...; every attempt, with its stack, at debug.
        const n = attempts + 1;
        const fields = { key, attempts: n, retryInMs: delayMs, reason: error.message };
        if ((n & (n - 1)) === 0) {
          logger.warn(fields, "etcd registration: re-registration failed; retrying");
        }
        logger.debug(
          { ...fields, err: error },
          "etcd registration: re-registration attempt failed",
        );
        emit({ type: "error", error, attempts: n });
        retry(n, delayMs);
        return;
      }
      if (closed) {
        await revoke();
        return;
      }
      logger.info(
        { key, lease: leaseId, attempts: attempts + 1 },
        "etcd registration: re-registered",
      );
      emit({ type: "reregistered", leaseId, attempts: attempts + 1 });
    }, delayMs);
  };

  const revoke = async () => {
    const current = lease;
    if (current === undefined) return;
    const id = leaseId;
    const results = await Promise.allSettled([
      client.if(key, "Lease", "==", id).then(client.delete().key(key)).options(deadline()).commit(),
      current.revoke(deadline()),
    ]);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) {
      current.release();
      // Routine while etcd is down: the reason at warn, the stack only at debug.
      const err: unknown = failed.reason;
      logger.debug({ key, err }, "etcd registration: the delete's error");
      logger.warn(
        { key, lease: id, reason: err instanceof Error ? err.message : String(err) },
        "etcd registration: could not delete the record; it expires with the lease",
      );
    }
  };

  const waitUntil = Date.now() + waitForIdMs;
  for (;;) {
    try {
      await claim();
      break;
    } catch (err) {
      const left = waitUntil - Date.now();
      if (!(err instanceof DiscoveryError && err.code === "DUPLICATE_ID") || left <= 0) throw err;
      // Routine after a quick restart: the reason, not a stack.
      logger.info(
        { key, reason: err.message },
        "etcd registration: id taken; waiting for the holder's lease to end",
      );
      await new Promise((resolve) => setTimeout(resolve, Math.min(backoff.next(), left)));
    }
  }
  backoff.reset();
  logger.info({ key, lease: leaseId, ttlSec }, "etcd registration: registered");

  return {
    key,
    record,
    get leaseId() {
      return leaseId;
    },
    get registered() {
      return registered && !closed;
    },
    async close() {
      if (closed) return;
      closed = true;
      registered = false;
      clearTimeout(retryTimer);
      await revoke();
      logger.info({ key, lease: leaseId }, "etcd registration: closed");
    },
  };
}
