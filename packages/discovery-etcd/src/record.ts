/**
 * NodeRecord is what a node publishes about itself. It is structurally a `@geecache/core` Member
 * (`id`, `address`, `weight?`) plus facts for operators.
 */
export interface NodeRecord {
  /** Stable node id, unique in the cluster; the last segment of the key. */
  id: string;
  /** Advertised address "host:port" that peers dial; the node's identity on the hash ring. */
  address: string;
  /** Relative capacity; 1 when absent. */
  weight?: number;
  /** The node's software version, for operators. */
  version?: string;
  /** When the node process started (Unix epoch ms). */
  startedAtMs?: number;
}

/** membersPrefix returns the key prefix of a cluster's records: `<prefix>/<cluster>/nodes/`. */
export function membersPrefix(prefix: string, cluster: string): string {
  if (typeof cluster !== "string" || cluster === "" || cluster.includes("/")) {
    throw new TypeError(
      `cluster must be a non-empty name without "/", got ${JSON.stringify(cluster)}`,
    );
  }
  const base = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  return `${base}/${cluster}/nodes/`;
}

/** validateRecord throws a TypeError/RangeError if record is not a usable NodeRecord. */
export function validateRecord(record: NodeRecord): void {
  if (typeof record.id !== "string" || record.id === "" || record.id.includes("/")) {
    throw new TypeError(
      `record.id must be a non-empty string without "/", got ${JSON.stringify(record.id)}`,
    );
  }
  // NaN, failing the range check, when the address is not a string or has no host or port.
  const port = Number(/^.+:(\d{1,5})$/.exec(String(record.address))?.[1]);
  // A host that is no URL host ("a b:1", "::1:1" unbracketed) could not be dialled by any peer.
  if (
    typeof record.address !== "string" ||
    !(port >= 1 && port <= 65_535) ||
    !URL.canParse(`http://${record.address}`)
  ) {
    throw new TypeError(
      `record.address must be a non-empty "host:port", got ${JSON.stringify(record.address)}`,
    );
  }
  if (record.weight !== undefined && !(Number.isFinite(record.weight) && record.weight > 0)) {
    throw new RangeError(`record.weight must be a positive number, got ${record.weight}`);
  }
  if (record.version !== undefined && typeof record.version !== "string") {
    throw new TypeError("record.version must be a string");
  }
  if (record.startedAtMs !== undefined && !Number.isFinite(record.startedAtMs)) {
    throw new TypeError("record.startedAtMs must be a number");
  }
}

/** encodeRecord is the JSON stored in etcd, with fields in a fixed order. */
export function encodeRecord(record: NodeRecord): string {
  return JSON.stringify({
    id: record.id,
    address: record.address,
    weight: record.weight,
    version: record.version,
    startedAtMs: record.startedAtMs,
  });
}

/**
 * parseRecord decodes the value stored under key. It throws if the value is not a valid record
 * or its id disagrees with the key, so a hand-written or foreign key never reaches the ring.
 */
export function parseRecord(key: string, value: string): NodeRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch (err) {
    throw new TypeError(`record at ${key} is not JSON`, { cause: err });
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new TypeError(`record at ${key} is not a JSON object`);
  }
  const o = raw as Record<string, unknown>;
  const record: NodeRecord = { id: o.id as string, address: o.address as string };
  if (o.weight !== undefined && o.weight !== null) record.weight = o.weight as number;
  if (o.version !== undefined && o.version !== null) record.version = o.version as string;
  if (o.startedAtMs !== undefined && o.startedAtMs !== null) {
    record.startedAtMs = o.startedAtMs as number;
  }
  validateRecord(record);
  if (!key.endsWith(`/${record.id}`)) {
    throw new TypeError(`record at ${key} claims id ${JSON.stringify(record.id)}`);
  }
  return record;
}

/** compareRecords orders records by id (then address), the order handed to watchers. */
export function compareRecords(a: NodeRecord, b: NodeRecord): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  if (a.address !== b.address) return a.address < b.address ? -1 : 1;
  return 0;
}
