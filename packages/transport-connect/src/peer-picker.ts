import {
  createRingPeerPicker,
  type RingPeerPicker,
  type RingPeerPickerOptions,
} from "@geecache/core";
import {
  checkPeerClientOptions,
  createPeerClient,
  type PeerClient,
  type PeerClientOptions,
} from "./peer-client.ts";

/** ConnectPeerPickerOptions configure createConnectPeerPicker. */
export interface ConnectPeerPickerOptions extends PeerClientOptions {
  /**
   * This node's advertised address ("host:port"), exactly as it appears in every node's peer
   * list; keys it owns are loaded locally. Omit it on a gateway, which owns nothing.
   */
  self?: string;
  /** Virtual nodes per peer on the ring; core's default when omitted. Same on every node. */
  replicas?: number;
  /** How a peer that keeps failing is taken out of use for a while (core's defaults), or false. */
  breaker?: RingPeerPickerOptions["breaker"];
  /** Hears when a peer is taken out of use and when it is back. */
  logger?: RingPeerPickerOptions["logger"];
  /** How long a key's previous owner is asked for it after a membership change; core's default (5 min) when omitted, 0 for never. */
  handoffWindowMs?: number;
}

/**
 * ConnectPeerPicker is core's RingPeerPicker whose peers are PeerClients, so callers such as a
 * gateway can also read each node's stats or call with `forwarded: false`.
 */
export interface ConnectPeerPicker extends RingPeerPicker {
  pickPeer(key: string): PeerClient | undefined;
  pickPeers(key: string, n: number): PeerClient[];
  /** client returns the PeerClient of a member address (undefined for self or a non-member). */
  client(address: string): PeerClient | undefined;
}

/**
 * createConnectPeerPicker creates core's RingPeerPicker with a pooled gRPC PeerClient per
 * peer. Ring identity rule: peers are identified by their advertised address "host:port",
 * byte for byte, so every node and gateway given the same list (same spelling, same replicas)
 * computes the same owner for every key. Call setPeers(addresses) whenever membership changes;
 * clients of addresses that stay are kept, those of addresses that left are closed. Bad
 * client options throw here, as createPeerClient would throw them.
 */
export function createConnectPeerPicker(options: ConnectPeerPickerOptions = {}): ConnectPeerPicker {
  const { self, replicas, breaker, logger, handoffWindowMs, ...clientOptions } = options;
  // Clients are created in setPeers, often long after start-up (on a membership change):
  // bad options must fail here, where they were given.
  checkPeerClientOptions(clientOptions);
  // Mirrors the ring's live clients so client(address) can answer; core creates and closes them.
  const clients = new Map<string, PeerClient>();
  const ring = createRingPeerPicker({
    self,
    replicas,
    ...(breaker === undefined ? {} : { breaker }),
    ...(logger === undefined ? {} : { logger }),
    ...(handoffWindowMs === undefined ? {} : { handoffWindowMs }),
    createPeer: (address: string) => {
      const client = createPeerClient(address, clientOptions);
      const tracked: PeerClient = {
        id: client.id,
        get: (request, callOptions) => client.get(request, callOptions),
        stats: (callOptions) => client.stats(callOptions),
        probe: (callOptions) => client.probe(callOptions),
        close: () => {
          if (clients.get(address) === tracked) clients.delete(address);
          return client.close();
        },
      };
      clients.set(address, tracked);
      return tracked;
    },
  });
  // Every PeerGetter the ring holds came from createPeer above, so it is a PeerClient.
  return {
    pickPeer: (key) => ring.pickPeer(key) as PeerClient | undefined,
    pickPeers: (key, n) => ring.pickPeers(key, n) as PeerClient[],
    previousOwner: (key) => ring.previousOwner(key),
    client: (address) => clients.get(address),
    setPeers: (members) => ring.setPeers(members),
    ownerOf: (key) => ring.ownerOf(key),
    peers: () => ring.peers(),
    downPeers: () => ring.downPeers(),
    close: () => ring.close(),
  };
}
