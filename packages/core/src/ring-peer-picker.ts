import type { HashFunction } from "@geecache/consistenthash";
import { createHashRing } from "@geecache/consistenthash";
import { GeeCacheError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import {
  type CallOutcome,
  createPeerBreaker,
  outcomeOf,
  type PeerBreakerOptions,
} from "./peer-breaker.ts";
import type { Member, PeerGetter, PeerPicker } from "./peers.ts";

/** RingPeerPickerOptions configure createRingPeerPicker. */
export interface RingPeerPickerOptions {
  /**
   * self is this node's advertised address. Keys the ring gives to self are loaded locally
   * (pickPeer returns undefined). Leave it out on a node that owns nothing, such as a gateway.
   */
  self?: string;
  /** createPeer makes the PeerGetter for a peer's advertised address (the transport supplies it). */
  createPeer: (address: string) => PeerGetter;
  /** replicas is the number of virtual nodes per unit of weight. Default: the ring's (160). */
  replicas?: number;
  /** hash is the ring's hash function (tests inject one). Default: the ring's (FNV-1a 32). */
  hash?: HashFunction;
  /**
   * breaker stops asking a peer that keeps failing (unreachable, out of time, broken): after 3
   * failures in a row it is out of use (pickPeer returns undefined, so the key loads locally;
   * pickPeers lists it last) for a cooldown of 1 s, then it is probed: in the background with
   * the getter's `probe` when it has one, else by letting one call through. Each failed probe
   * doubles the cooldown, up to 30 s; a success puts the peer back. `false` turns this off.
   */
  breaker?: PeerBreakerOptions | false;
  /** now is the clock of the breaker and the hand-off window (tests inject one). Default: Date.now. */
  now?: () => number;
  /**
   * handoffWindowMs is how long after a membership change previousOwner names a key's owner
   * before the change: 300,000 ms (5 minutes) by default, long enough for most keys that moved
   * to be asked again while the old owner still caches them; 0 turns hand-off off.
   */
  handoffWindowMs?: number;
  /** logger hears when a peer is taken out of use and when it is back. */
  logger?: Logger;
}

/**
 * RingPeerPicker is a PeerPicker over a consistent-hash ring of advertised addresses. Peers are
 * identified on the ring by their advertised address ("host:port"), so every node with the same
 * member list agrees on every owner; a Member's weight scales its share of keys.
 */
export interface RingPeerPicker extends PeerPicker {
  /**
   * setPeers replaces the members (addresses or Members; include self). It takes effect for the
   * next pickPeer. PeerGetters of addresses that stay are kept; those of addresses that left are
   * no longer picked and are closed in the background: a node that leaves gracefully still
   * answers what it was asked, so their close() is expected to let calls in flight finish (as
   * transport-connect's PeerClient does) rather than fail them.
   */
  setPeers(members: Iterable<string | Member>): void;
  /**
   * pickPeers returns up to n PeerGetters for key in ring order, the owner first, skipping self.
   * A peer the breaker has taken out of use yields its place to the next peer in use on the
   * ring; peers out of use are listed only when fewer than n are in use, after those.
   */
  pickPeers(key: string, n: number): PeerGetter[];
  /**
   * previousOwner returns the PeerGetter of the node that owned key under the membership before
   * the last setPeers that changed it, for handoffWindowMs after it; undefined when that was
   * self, is the owner now, has left, is out of use, or the window has passed. The first list
   * that names self and others counts as self joining them: before it, the others owned
   * everything. The hand-off also ends early once 64 calls in a row to the getters it returned
   * found nothing (the old owners hold none of the keys, as after a cold start).
   */
  previousOwner(key: string): PeerGetter | undefined;
  /** ownerOf returns the address owning key (possibly self), or undefined with no members. */
  ownerOf(key: string): string | undefined;
  /** peers lists the member addresses, sorted (self included if it is a member). */
  peers(): string[];
  /** downPeers lists the members the breaker has taken out of use, sorted. */
  downPeers(): string[];
  /**
   * close empties the ring and closes every PeerGetter, those that left in setPeers and are still
   * closing included; it resolves when all are closed (a PeerClient's close waits for its calls
   * in flight, each bounded by its deadline).
   */
  close(): Promise<void>;
}

/** DEFAULT_HANDOFF_WINDOW_MS is how long a key's previous owner is asked after a change: 5 min. */
export const DEFAULT_HANDOFF_WINDOW_MS = 300_000;
/** HANDOFF_GIVE_UP is how many hand-off calls in a row may find nothing before it ends early. */
const HANDOFF_GIVE_UP = 64;

/** createRingPeerPicker returns a picker with no members (every key local until setPeers). */
export function createRingPeerPicker(options: RingPeerPickerOptions): RingPeerPicker {
  if (typeof options?.createPeer !== "function") {
    throw new GeeCacheError("INVALID_ARGUMENT", "createRingPeerPicker needs a createPeer function");
  }
  const { self } = options;
  const now = options.now ?? Date.now;
  const handoffWindowMs = options.handoffWindowMs ?? DEFAULT_HANDOFF_WINDOW_MS;
  if (!(Number.isFinite(handoffWindowMs) && handoffWindowMs >= 0)) {
    throw new GeeCacheError(
      "INVALID_ARGUMENT",
      `createRingPeerPicker: handoffWindowMs must be a finite number >= 0, got ${handoffWindowMs}`,
    );
  }
  const breaker =
    options.breaker === false
      ? undefined
      : createPeerBreaker(options.breaker ?? {}, options.now, options.logger, (id) => {
          const peer = getters.get(id);
          return peer?.probe === undefined ? undefined : () => peer.probe!();
        });
  // Every call's outcome reaches the breaker, whoever picked the peer. A proxy, not a new
  // object, so whatever else the transport's getter offers (a PeerClient's stats, say) stays.
  const createPeer = (address: string): PeerGetter => {
    const peer = options.createPeer(address);
    if (breaker === undefined) return peer;
    // A call that ends after its peer left the ring (it was let finish) says nothing about a
    // member: recorded, it would mark the address down for when it rejoins.
    const record = (outcome: CallOutcome) => {
      if (getters.get(address) === proxy) breaker.record(address, outcome);
    };
    const get: PeerGetter["get"] = (request, callOptions) =>
      peer.get(request, callOptions).then(
        (res) => {
          record("ok");
          return res;
        },
        (err: unknown) => {
          record(outcomeOf(err, callOptions?.signal));
          throw err;
        },
      );
    const proxy = new Proxy(peer, {
      get(target, prop) {
        if (prop === "get") return get;
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    return proxy;
  };
  let ring = createHashRing({ replicas: options.replicas, hash: options.hash });
  let getters = new Map<string, PeerGetter>();
  // The ring before the last membership change, until handoffAt + the window.
  let previous: ReturnType<typeof createHashRing> | undefined;
  let handoffUntil = 0;
  let handoffMisses = 0;
  // The members and weights of ring, to tell a change from the same list sent again.
  let membership = "";
  // Closes of getters that left in setPeers and have not finished: close() waits for them too,
  // so no connection outlives the picker.
  const leaving = new Set<Promise<void>>();

  // Closing is best effort: a getter that fails to close is gone from the ring all the same.
  function closeAll(list: Iterable<PeerGetter>): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const g of list) {
      if (g.close !== undefined) closing.push(g.close().catch(() => {}));
    }
    return Promise.all(closing).then(() => {});
  }

  return {
    pickPeer(key) {
      const owner = ring.get(key);
      if (owner === undefined || owner === self) return undefined;
      // A peer out of use: load here, as groupcache does when a peer fails.
      if (breaker !== undefined && !breaker.allow(owner)) return undefined;
      return getters.get(owner);
    },
    pickPeers(key, n) {
      const up: PeerGetter[] = [];
      const down: PeerGetter[] = [];
      let want = self === undefined ? n : n + 1;
      let ids = ring.getN(key, want);
      // A peer out of use gives its place to the next one up the ring, however far that is
      // (with two of three nodes down, the third must still be asked): the walk goes one node
      // further per peer out of use it meets, until it meets no more or the ring ends.
      if (breaker !== undefined) {
        for (let down = 0; ids.length === want; ) {
          const seen = ids.filter((id) => breaker.isDown(id)).length;
          if (seen === down) break;
          want += seen - down;
          down = seen;
          ids = ring.getN(key, want);
        }
      }
      for (const id of ids) {
        if (up.length === n) break;
        if (id === self) continue;
        const g = getters.get(id);
        if (g === undefined) continue;
        if (breaker?.isDown(id)) down.push(g);
        else up.push(g);
      }
      return up.concat(down).slice(0, n);
    },
    previousOwner(key) {
      if (previous === undefined) return undefined;
      if (now() >= handoffUntil) {
        previous = undefined;
        return undefined;
      }
      const before = previous.get(key);
      if (before === undefined || before === self || before === ring.get(key)) return undefined;
      if (breaker?.isDown(before)) return undefined;
      // undefined too when it left: a node that is gone has nothing to hand over.
      const getter = getters.get(before);
      if (getter === undefined) return undefined;
      // Old owners that hold none of the keys asked (a cluster that started cold, or a node
      // whose keys nobody served while it was away) would cost every load a round trip for the
      // whole window: after HANDOFF_GIVE_UP misses in a row the hand-off ends early.
      const epoch = previous;
      return {
        id: getter.id,
        get: (request, callOptions) =>
          getter.get(request, callOptions).then(
            (res) => {
              if (previous === epoch) handoffMisses = 0;
              return res;
            },
            (err: unknown) => {
              // Only "not cached" says the old owners hold nothing. A timeout or a refusal is
              // the breaker's business, and the caller's own cancellation says nothing.
              const notCached = err instanceof GeeCacheError && err.code === "NOT_FOUND";
              if (notCached && previous === epoch && ++handoffMisses >= HANDOFF_GIVE_UP) {
                previous = undefined;
                options.logger?.info(
                  { misses: handoffMisses },
                  "hand-off ended early: the previous owners held none of the last keys asked",
                );
              }
              throw err;
            },
          ),
      };
    },
    ownerOf: (key) => ring.get(key),
    peers: () => ring.nodes(),
    downPeers: () => breaker?.down() ?? [],
    setPeers(members) {
      // A string is iterable too: setPeers("10.0.0.1:8001") would add a member per character.
      if (typeof members === "string") {
        throw new GeeCacheError(
          "INVALID_ARGUMENT",
          "setPeers takes a list of addresses, not a string",
        );
      }
      const nodes: { id: string; weight?: number }[] = [];
      for (const m of members) {
        if (typeof m === "string") nodes.push({ id: m });
        else if (m !== null && typeof m === "object" && typeof m.address === "string") {
          nodes.push({ id: m.address, weight: m.weight });
        } else {
          throw new GeeCacheError("INVALID_ARGUMENT", "setPeers takes addresses or Members");
        }
      }
      // Build the new ring and getters fully before swapping, so a bad member list (a thrown
      // error) leaves the old membership in place and lookups never see a half-built state.
      const next = createHashRing({ replicas: options.replicas, hash: options.hash });
      try {
        next.set(nodes);
      } catch (e) {
        throw GeeCacheError.from(e, "INVALID_ARGUMENT");
      }
      const nextGetters = new Map<string, PeerGetter>();
      for (const { id } of nodes) {
        if (id === self || nextGetters.has(id)) continue;
        nextGetters.set(id, getters.get(id) ?? createPeer(id));
      }
      const gone = [...getters].filter(([id]) => !nextGetters.has(id));
      for (const [id] of gone) breaker?.forget(id);
      const removed = gone.map(([, g]) => g);
      // The same list again (as discovery sends after reconnecting) is no change, and must not
      // end the hand-off of a real one.
      // By id, the last entry winning as in the ring, so a repeated id is no change either.
      const byId = new Map(nodes.map(({ id, weight }) => [id, weight ?? 1]));
      const nextMembership = JSON.stringify([...byId].sort(([a], [b]) => (a < b ? -1 : 1)));
      if (handoffWindowMs > 0 && nextMembership !== membership) {
        if (membership !== "") {
          previous = ring;
          handoffUntil = now() + handoffWindowMs;
          handoffMisses = 0;
        } else if (self !== undefined && byId.has(self) && byId.size > 1) {
          // A node's first list is it joining the others (a new node, or one restarting): its
          // keys were theirs until now, and whoever served them may still cache them.
          const without = createHashRing({ replicas: options.replicas, hash: options.hash });
          without.set(nodes.filter((n) => n.id !== self));
          previous = without;
          handoffUntil = now() + handoffWindowMs;
          handoffMisses = 0;
        }
      }
      membership = nextMembership;
      ring = next;
      getters = nextGetters;
      // In the background: setPeers must not wait for the calls in flight on a removed peer,
      // which finish (or fail on their own deadline) before its close() resolves.
      if (removed.length > 0) {
        const closing = closeAll(removed).then(() => {
          leaving.delete(closing);
        });
        leaving.add(closing);
      }
    },
    close() {
      breaker?.close();
      const all = [...getters.values()];
      getters = new Map();
      ring = createHashRing({ replicas: options.replicas, hash: options.hash });
      previous = undefined;
      membership = "";
      return Promise.all([closeAll(all), ...leaving]).then(() => {});
    },
  };
}
