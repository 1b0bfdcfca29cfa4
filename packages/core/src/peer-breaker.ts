import { GeeCacheError, isDeadline } from "./errors.ts";
import type { Logger } from "./logger.ts";

/** PeerBreakerOptions tune how a picker stops asking a peer that keeps failing. */
export interface PeerBreakerOptions {
  /** failures is how many failed calls in a row take a peer out of use. Default 3. */
  failures?: number;
  /** cooldownMs is how long a peer stays out before one call probes it again. Default 1,000. */
  cooldownMs?: number;
  /** maxCooldownMs caps the cooldown, which doubles after each failed probe. Default 30,000. */
  maxCooldownMs?: number;
}

export const DEFAULT_BREAKER_FAILURES = 3;
export const DEFAULT_BREAKER_COOLDOWN_MS = 1_000;
export const DEFAULT_BREAKER_MAX_COOLDOWN_MS = 30_000;

/**
 * A call's outcome as the breaker sees it: the peer answered, failed, ran out of time without an
 * answer ("slow": a broken peer, or only a slow load, which the peer's health check tells apart),
 * or was not judged.
 */
export type CallOutcome = "ok" | "failed" | "slow" | "neutral";

interface PeerState {
  failures: number;
  /** The peer's background test, if it has one; no user call is its test then. */
  probe?: () => Promise<void>;
  /** The pending background test. */
  timer?: ReturnType<typeof setTimeout>;
  /** 0 while the peer is in use; else when its cooldown ends (ms, from `now`). */
  downUntil: number;
  cooldownMs: number;
  /** While a probe is out, when another may be sent if it never reports (ms). */
  probeUntil: number;
}

/**
 * PeerBreaker is a circuit breaker per peer. A peer that fails `failures` calls in a row is "down"
 * for a cooldown; then one call (a probe) is let through: success puts the peer back in use,
 * failure doubles the cooldown. So a peer that hangs costs a few calls their deadline, not every
 * call until membership drops it, and one that refuses costs nothing after a few tries.
 *
 * A call that runs out of time is not a failure by itself: the owner may be loading a slow key,
 * and anyone who knows one could otherwise take healthy peers out. It starts the peer's health
 * check (one at a time per peer): an answer keeps the peer in use, none takes it out at once.
 * A peer that cannot be probed counts such a call as a failure.
 */
export interface PeerBreaker {
  /** allow says whether a call to id may start now; it hands out the probe of a down peer. */
  allow(id: string): boolean;
  /** isDown says whether id is out of use (cooling down, or probed), without taking the probe. */
  isDown(id: string): boolean;
  /** record reports how a call to id ended. */
  record(id: string, outcome: CallOutcome): void;
  /** forget drops what is known of id (it left the membership). */
  forget(id: string): void;
  /** down lists the peers out of use, sorted. */
  down(): string[];
  /** close stops the background probes. */
  close(): void;
}

/**
 * Prober returns the test of a peer out of use (a call that resolves when the peer answers), or
 * undefined when the peer cannot be probed: then a user call is let through as the test, once
 * per cooldown.
 */
export type Prober = (id: string) => (() => Promise<void>) | undefined;

export function createPeerBreaker(
  options: PeerBreakerOptions = {},
  now: () => number = Date.now,
  logger?: Logger,
  prober?: Prober,
): PeerBreaker {
  const threshold = options.failures ?? DEFAULT_BREAKER_FAILURES;
  const cooldownMs = options.cooldownMs ?? DEFAULT_BREAKER_COOLDOWN_MS;
  const maxCooldownMs = options.maxCooldownMs ?? DEFAULT_BREAKER_MAX_COOLDOWN_MS;
  if (!(Number.isSafeInteger(threshold) && threshold >= 1)) {
    throw new GeeCacheError(
      "INVALID_ARGUMENT",
      `breaker failures must be an integer >= 1, got ${threshold}`,
    );
  }
  for (const [label, v] of [
    ["cooldownMs", cooldownMs],
    ["maxCooldownMs", maxCooldownMs],
  ] as const) {
    if (!(Number.isFinite(v) && v > 0)) {
      throw new GeeCacheError("INVALID_ARGUMENT", `breaker ${label} must be > 0, got ${v}`);
    }
  }
  if (maxCooldownMs < cooldownMs) {
    throw new GeeCacheError("INVALID_ARGUMENT", "breaker maxCooldownMs must be >= cooldownMs");
  }

  const states = new Map<string, PeerState>();
  /** Peers whose health check is out after a call ran out of time, each with its own token. */
  const verifying = new Map<string, object>();
  let closed = false;

  function verify(id: string): void {
    const probe = prober?.(id);
    if (probe === undefined) {
      fail(id, false);
      return;
    }
    if (verifying.has(id)) return;
    const token = {};
    verifying.set(id, token);
    const settle = (outcome: "ok" | "down") => {
      if (closed || verifying.get(id) !== token) return; // forgotten meanwhile
      verifying.delete(id);
      if (outcome === "ok") record(id, "ok");
      else fail(id, true);
    };
    probe().then(
      () => settle("ok"),
      () => settle("down"),
    );
  }

  // Once the cooldown is over, test the peer off the request path; until it answers it stays
  // out of use.
  function schedule(id: string, s: PeerState): void {
    const probe = s.probe;
    if (probe === undefined) return;
    clearTimeout(s.timer);
    s.timer = setTimeout(
      () => {
        s.timer = undefined;
        if (states.get(id) !== s) return;
        // A result that comes after close() or forget() (the peer left) is not recorded: it
        // would bring the peer's state back, and with it more probes.
        const report = (outcome: CallOutcome) => {
          if (!closed && states.get(id) === s) record(id, outcome);
        };
        probe().then(
          () => report("ok"),
          () => report("failed"),
        );
      },
      Math.max(0, s.downUntil - now()),
    );
    s.timer.unref?.();
  }

  function record(id: string, outcome: CallOutcome): void {
    const s = states.get(id);
    if (outcome === "neutral") {
      if (s !== undefined) s.probeUntil = 0;
      return;
    }
    if (outcome === "ok") {
      if (s === undefined) return;
      clearTimeout(s.timer);
      if (s.downUntil !== 0)
        logger?.info({ peer: id }, "geecache: peer answers again, back in use");
      states.delete(id);
      return;
    }
    if (outcome === "slow") verify(id);
    else fail(id, false);
  }

  /** A failed call; atOnce (a call out of time, then no health check answer) takes it out now. */
  function fail(id: string, atOnce: boolean): void {
    let s = states.get(id);
    if (s === undefined) {
      s = { failures: 0, downUntil: 0, cooldownMs, probeUntil: 0 };
      states.set(id, s);
    }
    s.failures++;
    s.probeUntil = 0;
    if (s.downUntil !== 0) {
      // Calls that were already out when the peer went down fail late; only a call made after
      // the cooldown (a probe) says the peer is still broken, and doubles the wait.
      const t = now();
      if (t >= s.downUntil) {
        s.cooldownMs = Math.min(s.cooldownMs * 2, maxCooldownMs);
        s.downUntil = t + s.cooldownMs;
        schedule(id, s);
      }
    } else if (atOnce || s.failures >= threshold) {
      s.downUntil = now() + s.cooldownMs;
      s.probe = prober?.(id);
      schedule(id, s);
      logger?.warn(
        { peer: id, failures: s.failures, cooldownMs: s.cooldownMs },
        "geecache: peer keeps failing, not asking it until a probe succeeds",
      );
    }
  }

  const out = (s: PeerState | undefined, t: number): boolean =>
    s !== undefined &&
    s.downUntil !== 0 &&
    (s.probe !== undefined || t < s.downUntil || t < s.probeUntil);

  return {
    allow(id) {
      const s = states.get(id);
      const t = now();
      if (s === undefined || s.downUntil === 0) return true;
      if (out(s, t)) return false;
      // A probe that never reports (its caller moved on) must not keep the peer out forever.
      s.probeUntil = t + s.cooldownMs;
      return true;
    },
    isDown: (id) => out(states.get(id), now()),
    record,
    forget(id) {
      clearTimeout(states.get(id)?.timer);
      states.delete(id);
      verifying.delete(id);
    },
    down() {
      const t = now();
      return [...states]
        .filter(([, s]) => out(s, t))
        .map(([id]) => id)
        .sort();
    },
    close() {
      closed = true;
      verifying.clear();
      for (const s of states.values()) clearTimeout(s.timer);
      states.clear();
    },
  };
}

/**
 * outcomeOf judges a failed peer call: unreachable or broken is a failure; out of time is "slow"
 * (the breaker asks the peer's health check whether that was the peer or the load); an answer
 * (not found, bad request, the owner's load failed) means the peer works; the caller's own
 * cancellation says nothing about the peer.
 */
export function outcomeOf(reason: unknown, signal: AbortSignal | undefined): CallOutcome {
  if (signal?.aborted) {
    return isDeadline(signal.reason) ? "slow" : "neutral";
  }
  const code = GeeCacheError.from(reason).code;
  if (code === "DEADLINE_EXCEEDED") return "slow";
  if (code === "UNAVAILABLE" || code === "INTERNAL") return "failed";
  return code === "CANCELED" ? "neutral" : "ok";
}
