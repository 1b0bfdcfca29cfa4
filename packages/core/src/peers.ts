/** PeerGetRequest names one value on a remote node. */
export interface PeerGetRequest {
  group: string;
  key: string;
}

/** PeerGetResponse is a value fetched from its owner. */
export interface PeerGetResponse {
  value: Uint8Array;
  /** Absolute expiry in Unix epoch milliseconds, if the value has a TTL. */
  expiresAtMs?: number;
}

/**
 * PeerGetter fetches a value from the node that owns it. Implementations (e.g.
 * `@geecache/transport-connect`) must honour the signal, apply their own deadline, and reject with
 * a GeeCacheError: NOT_FOUND when the owner's source has no such key, UNAVAILABLE or
 * DEADLINE_EXCEEDED when the peer cannot answer. The owner must answer from its cache or its
 * getter and never forward the request again.
 */
export interface PeerGetter {
  /** The peer's identity on the ring: its advertised address, e.g. "10.0.0.7:8001". */
  readonly id: string;
  /**
   * get fetches a key from the peer. timeoutMs is the caller's deadline for the call: a
   * transport sends it to the peer, so the peer gives up when the caller does. With cacheOnly
   * the peer answers only from its caches (NOT_FOUND when it holds no value), as a group's
   * `get(key, { cacheOnly: true })` does; core asks a key's previous owner so (hand-off).
   */
  get(
    request: PeerGetRequest,
    options?: { signal?: AbortSignal; timeoutMs?: number; cacheOnly?: boolean },
  ): Promise<PeerGetResponse>;
  /** Releases pooled connections; called when the peer leaves the ring. */
  close?(): Promise<void>;
  /**
   * probe makes a cheap call that resolves when the peer answers, with the transport's deadline.
   * A ring uses it to test a peer it took out of use in the background, so no user request pays
   * for a peer that is still down; without it, one request is let through as the test.
   */
  probe?(): Promise<void>;
}

/**
 * PeerPicker chooses the owner of a key. pickPeer returns undefined when this node owns the key
 * (or there are no peers), so the caller loads it locally.
 */
export interface PeerPicker {
  pickPeer(key: string): PeerGetter | undefined;
  /**
   * previousOwner (optional) names the peer that owned key before the last membership change,
   * while that change is recent, when it is another node that is still a member and in use.
   * A group that must load a key it owns asks that peer's cache first (hand-off), so keys that
   * move to a new node are not loaded from the source again.
   */
  previousOwner?(key: string): PeerGetter | undefined;
}

/** Member is one node of a cluster as discovery reports it. */
export interface Member {
  /** Stable node id (unique in the cluster). */
  id: string;
  /** Advertised address "host:port"; this is the node's identity on the hash ring. */
  address: string;
  /** Relative capacity; 1 by default. */
  weight?: number;
}

/** NoPeers is the PeerPicker of a single node: every key is local. */
export const NoPeers: PeerPicker = { pickPeer: () => undefined };
