import { createRingPeerPicker, type RingPeerPicker } from "@geecache/core";
import { createPeerClient, type PeerClientOptions } from "./peer-client.ts";

/** ConnectPeerPickerOptions configure createConnectPeerPicker. */
export interface ConnectPeerPickerOptions extends PeerClientOptions {
  /**
   * This node's advertised address ("host:port"), exactly as it appears in every node's peer
   * list; keys it owns are loaded locally. Omit it on a gateway, which owns nothing.
   */
  self?: string;
  /** Virtual nodes per peer on the ring; core's default when omitted. Same on every node. */
  replicas?: number;
}

/**
 * createConnectPeerPicker creates core's RingPeerPicker with a pooled gRPC PeerClient per
 * peer. Ring identity rule: peers are identified by their advertised address "host:port",
 * byte for byte, so every node and gateway given the same list (same spelling, same replicas)
 * computes the same owner for every key. Call setPeers(addresses) whenever membership changes.
 */
export function createConnectPeerPicker(options: ConnectPeerPickerOptions = {}): RingPeerPicker {
  const { self, replicas, ...clientOptions } = options;
  return createRingPeerPicker({
    self,
    replicas,
    createPeer: (address: string) => createPeerClient(address, clientOptions),
  });
}
