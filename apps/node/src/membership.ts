import type { Member } from "@geecache/core";
import type { EtcdDiscovery, NodeRecord } from "@geecache/discovery-etcd";

/**
 * Membership is where the node learns the cluster's members. The node needs exactly one thing
 * from it: the whole member list on every change, which it hands to its ring picker's setPeers.
 */
export interface Membership {
  /**
   * Joins (for sources where that means something) and starts watching; onChange gets the full
   * member list, at least once before start resolves. Call it once the node is listening.
   */
  start(onChange: (members: readonly (string | Member)[]) => void): Promise<void>;
  /** Leaves the cluster and stops watching. */
  close(): Promise<void>;
}

/** staticMembership is a fixed member list, reported once at start (the `--peers` flag). */
export function staticMembership(peers: readonly string[]): Membership {
  return {
    async start(onChange) {
      onChange([...peers]);
    },
    async close() {},
  };
}

/** EtcdMembershipOptions configure etcdMembership. */
export interface EtcdMembershipOptions {
  discovery: EtcdDiscovery;
  /** This node's record; its address is its identity on the ring. */
  record: NodeRecord;
  leaseTtlSec: number;
}

/**
 * etcdMembership registers the node under a lease and watches the cluster (the `--etcd` flag).
 * The discovery's logger reports lease losses and re-registrations. A restarted node may find
 * its crashed predecessor's record still under the old lease: it waits that lease out (one TTL)
 * rather than failing, but a live node with the same id is an error. onChange hears only of
 * changes to what the ring is made of (the members' addresses and weights).
 */
export function etcdMembership(options: EtcdMembershipOptions): Membership {
  const { discovery, record, leaseTtlSec } = options;
  return {
    async start(onChange) {
      await discovery.register(record, {
        ttlSec: leaseTtlSec,
        waitForIdMs: leaseTtlSec * 1_000 + 1_000,
      });
      // The watch hands over a new list whenever a record changes, also when only its version
      // or startedAtMs did (a node restarted under the same address): the ring is the same, so
      // that is not a membership change.
      let last = "";
      await discovery.watch((members) => {
        const ring = JSON.stringify(members.map((m) => `${m.address}*${m.weight ?? 1}`).sort());
        if (ring === last) return;
        last = ring;
        onChange(members);
      });
    },
    close: () => discovery.close(),
  };
}
