/**
 * CallSlots bounds the calls open at once on one peer connection by its server's stream limit,
 * and queues the rest here rather than in HTTP/2. nghttp2 queues a request past the limit and
 * sends its HEADERS once a stream is free, even if the call timed out meanwhile, then its reset
 * right after. A burst of such calls (many slow keys at once) looks to the peer like a
 * rapid-reset attack: Node's server refuses new streams with ENHANCE_YOUR_CALM, then drops the
 * connection and every call on it, fast ones included. A call that leaves this queue before its
 * turn never touches the connection.
 */
export class CallSlots {
  #limit: number;
  #open = 0;
  #queue: Waiter[] = [];
  #head = 0;
  #gone = 0;
  #closed = false;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** closed says close() was called: a call granted now must fail rather than be sent. */
  get closed(): boolean {
    return this.#closed;
  }

  /** close grants every waiting call at once, so each sees closed and fails without waiting. */
  close(): void {
    this.#closed = true;
    this.#limit = Number.POSITIVE_INFINITY;
    this.#drain();
  }

  /** setLimit adopts the stream limit the server advertised. */
  setLimit(limit: number): void {
    if (this.#closed) return;
    this.#limit = limit;
    this.#drain();
  }

  /**
   * take calls grant when a slot is free: at once if one is, else in turn. It returns a function
   * that withdraws a call still waiting (a granted call gives its slot back with give()).
   */
  take(grant: () => void): () => void {
    if (this.#open < this.#limit && this.#head === this.#queue.length) {
      this.#open++;
      grant();
      return noop;
    }
    const waiter: Waiter = { grant, gone: false };
    this.#queue.push(waiter);
    return () => {
      if (waiter.gone || waiter.granted === true) return;
      waiter.gone = true;
      // Withdrawn waiters are skipped when their turn comes; compact if they pile up first
      // (a peer whose calls never end).
      if (++this.#gone > 64 && this.#gone * 2 > this.#queue.length - this.#head) this.#compact();
    };
  }

  /** give returns a granted call's slot. */
  give(): void {
    this.#open--;
    this.#drain();
  }

  #drain(): void {
    while (this.#open < this.#limit && this.#head < this.#queue.length) {
      const waiter = this.#queue[this.#head++]!;
      if (waiter.gone) {
        this.#gone--;
        continue;
      }
      waiter.granted = true;
      this.#open++;
      waiter.grant();
    }
    if (this.#head === this.#queue.length) {
      if (this.#head > 0) {
        this.#queue.length = 0;
        this.#head = 0;
        this.#gone = 0;
      }
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#compact();
    }
  }

  #compact(): void {
    this.#queue = this.#queue.slice(this.#head).filter((w) => !w.gone);
    this.#head = 0;
    this.#gone = 0;
  }
}

interface Waiter {
  grant: () => void;
  gone: boolean;
  granted?: boolean;
}

const noop = () => {};
