/**
 * Entry is one cached key/value, linked into exactly one List of its policy (or none while in
 * flight). Ghost entries (ARC, S3-FIFO) reuse it with the value dropped. Every policy uses the
 * same shape so property access stays monomorphic.
 */
export class Entry<K, V> {
  key: K;
  value: V | undefined;
  /** The size counted against maxBytes. */
  size: number;
  /** The weight counted against the policy's internal targets: size, or 1 without maxBytes. */
  w: number;
  /** Absolute expiry time in milliseconds; Infinity if none. */
  expiry: number;
  /** Toward the head (newer). */
  prev: Entry<K, V> | null = null;
  /** Toward the tail (older). */
  next: Entry<K, V> | null = null;
  /** The list holding the entry, which is how policies know its segment. */
  list: List<K, V> | null = null;
  /** Policy counter: access frequency (LFU, S3-FIFO) or a visited bit (SIEVE). */
  freq = 0;
  /** Policy counter: the access clock at the last access (LFU tie-break). */
  stamp = 0;

  constructor(key: K, value: V | undefined, size: number, w: number, expiry: number) {
    this.key = key;
    this.value = value;
    this.size = size;
    this.w = w;
    this.expiry = expiry;
  }
}

/**
 * List is an intrusive doubly-linked list of entries with its count and total weight: head is
 * the newest end, tail the oldest. All operations are O(1).
 */
export class List<K, V> {
  head: Entry<K, V> | null = null;
  tail: Entry<K, V> | null = null;
  count = 0;
  weight = 0;
  /** LFU: the frequency this list holds, and its neighbours in the frequency list. */
  freq = 0;
  up: List<K, V> | null = null;
  down: List<K, V> | null = null;

  /** pushHead links e (not in any list) at the head. */
  pushHead(e: Entry<K, V>): void {
    e.list = this;
    e.prev = null;
    e.next = this.head;
    if (this.head === null) this.tail = e;
    else this.head.prev = e;
    this.head = e;
    this.count++;
    this.weight += e.w;
  }

  /** pushTail links e (not in any list) at the tail. */
  pushTail(e: Entry<K, V>): void {
    e.list = this;
    e.next = null;
    e.prev = this.tail;
    if (this.tail === null) this.head = e;
    else this.tail.next = e;
    this.tail = e;
    this.count++;
    this.weight += e.w;
  }

  /** remove unlinks e, which must be in this list. */
  remove(e: Entry<K, V>): void {
    const { prev, next } = e;
    if (prev === null) this.head = next;
    else prev.next = next;
    if (next === null) this.tail = prev;
    else next.prev = prev;
    e.prev = null;
    e.next = null;
    e.list = null;
    this.count--;
    this.weight -= e.w;
  }

  /** moveToHead makes e, which must be in this list, the head. */
  moveToHead(e: Entry<K, V>): void {
    if (this.head === e) return;
    const { prev, next } = e;
    // e is not the head, so prev is not null.
    prev!.next = next;
    if (next === null) this.tail = prev;
    else next.prev = prev;
    e.prev = null;
    e.next = this.head;
    this.head!.prev = e;
    this.head = e;
  }

  /** clear forgets every entry (without unlinking them one by one). */
  clear(): void {
    this.head = null;
    this.tail = null;
    this.count = 0;
    this.weight = 0;
  }
}
