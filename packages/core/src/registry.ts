import { GeeCacheError } from "./errors.ts";
import type { Group, GroupOptions } from "./group.ts";
import { createGroup } from "./group.ts";
import type { Logger } from "./logger.ts";
import type { PeerPicker } from "./peers.ts";
import { NoPeers } from "./peers.ts";
import type { GroupStats } from "./stats.ts";

/** RegistryOptions configure createRegistry. */
export interface RegistryOptions {
  /** peers picks key owners for every group that has no picker of its own. Default: NoPeers. */
  peers?: PeerPicker;
  /** logger is passed to groups that have none of their own. Default: silent. */
  logger?: Logger;
}

/**
 * Registry holds an app's groups by name: the object a transport consults to serve a peer's
 * request for group/key. Create one per process (or per test) and pass it around; there is no
 * global registry.
 */
export interface Registry {
  /** newGroup creates and registers a group. Throws DUPLICATE_GROUP if the name is taken. */
  newGroup(options: GroupOptions): Group;
  /** get returns the group with that name, or undefined. */
  get(name: string): Group | undefined;
  /** mustGet returns the group with that name, or throws UNKNOWN_GROUP. */
  mustGet(name: string): Group;
  /** names lists the registered group names, sorted. */
  names(): string[];
  /** stats returns every group's stats by group name. */
  stats(): Record<string, GroupStats>;
  /**
   * setPeers replaces the picker used by groups without their own; it takes effect on the next
   * load, so a membership change needs no restart. (A RingPeerPicker can also change its
   * members in place with its own setPeers.)
   */
  setPeers(peers: PeerPicker): void;
}

/** createRegistry returns an empty registry. */
export function createRegistry(options: RegistryOptions = {}): Registry {
  const groups = new Map<string, Group>();
  let peers = options.peers === undefined ? NoPeers : checkPicker(options.peers);
  const context = { peers: () => peers, logger: options.logger };

  return {
    newGroup(groupOptions) {
      const name = groupOptions?.name;
      if (typeof name === "string" && groups.has(name)) {
        throw new GeeCacheError("DUPLICATE_GROUP", `group ${name} is already registered`);
      }
      const group = createGroup(groupOptions, context);
      groups.set(group.name, group);
      return group;
    },
    get: (name) => groups.get(name),
    mustGet(name) {
      const group = groups.get(name);
      if (group === undefined) {
        throw new GeeCacheError("UNKNOWN_GROUP", `no group named ${JSON.stringify(name)}`);
      }
      return group;
    },
    names: () => [...groups.keys()].sort(),
    stats() {
      const out: Record<string, GroupStats> = {};
      for (const [name, group] of groups) out[name] = group.stats();
      return out;
    },
    setPeers(picker) {
      peers = checkPicker(picker);
    },
  };
}

function checkPicker(picker: PeerPicker): PeerPicker {
  if (picker === null || typeof picker !== "object" || typeof picker.pickPeer !== "function") {
    throw new GeeCacheError("INVALID_ARGUMENT", "peers must be a PeerPicker (with pickPeer)");
  }
  return picker;
}
