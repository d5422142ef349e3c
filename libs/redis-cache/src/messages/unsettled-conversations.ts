/** Clears a batch of one bucket's conversations, or all of them; resolves to how many were cached, rejects on failure. */
export type ClearBatch = (bucket: number, conversationIds: readonly string[] | 'all') => Promise<number>;

/**
 * What `UnsettledConversations` needs from its message client: the limits, how
 * to find and clear a conversation's bucket, and the connection's readiness.
 */
export interface UnsettledOptions {
  /** The most conversations remembered; past it, the oldest one's bucket is cleared whole. */
  readonly max: number;
  /** Conversations cleared per script. */
  readonly batchSize: number;
  /** How long to wait before trying again after a clear failed while the connection looked ready. */
  readonly retryMs: number;
  bucketOf(conversationId: string): number;
  clear: ClearBatch;
  /** Whether the connection is ready, so that a clear can be tried. */
  isReady(): boolean;
  /** Calls `listener` each time the connection becomes ready, until the returned function is called. */
  onReady(listener: () => void): () => void;
  /** Called with how many cached conversations a clear removed. */
  onCleared(count: number): void;
  /** Called on every clear that failed, up to 4 times a second while they fail: it must throttle. */
  warn(message: string): void;
}

interface Batch {
  readonly bucket: number;
  readonly ids: readonly string[] | 'all';
  /** The generation of each conversation when the batch was made. */
  readonly stamps: ReadonlyMap<string, number>;
  /** For a whole bucket: the generation when the batch was made; what was marked until then, it clears. */
  readonly made?: number;
}

/**
 * The conversations that a write which failed on Redis may have left stale in
 * the cache: the database has the write, the cache may hold the conversation as
 * it was. Until each is cleared, the client serves none of them and writes none
 * of them; once the connection answers, they are cleared in the background, a
 * script per bucket and batch of ids, all sent at once. A call never waits for
 * the settling, so recovery after an outage costs it nothing.
 *
 * Each mark has a generation, so a clear that was under way when the same
 * conversation failed again does not unmark it. Past `max` marks, the oldest is
 * forgotten and its whole bucket is cleared instead, so that no stale copy
 * survives the cap.
 */
export class UnsettledConversations {
  private readonly pending = new Map<string, number>();
  private readonly overflowed = new Map<number, number>();
  private generation = 0;
  private running = false;
  private closed = false;
  private retry?: NodeJS.Timeout;
  /** Set while there is something to settle: the connection's return then starts the settling. */
  private unsubscribe?: () => void;

  constructor(private readonly options: UnsettledOptions) {}

  get empty(): boolean {
    return this.pending.size === 0 && this.overflowed.size === 0;
  }

  /** Whether the conversation may be stale in the cache: it must not be served or written until cleared. */
  has(conversationId: string): boolean {
    if (this.pending.has(conversationId)) return true;
    // every read asks: a bucket is a SHA-256 of the id (with buckets), so it is found only when one overflowed
    return this.overflowed.size > 0 && this.overflowed.has(this.options.bucketOf(conversationId));
  }

  /** Remembers that a write to the conversation failed on Redis, and settles if the connection answers. */
  mark(conversationId: string): void {
    if (!this.closed) this.unsubscribe ??= this.options.onReady(() => this.settle());
    this.pending.delete(conversationId);
    this.pending.set(conversationId, ++this.generation);
    if (this.pending.size > this.options.max) {
      const oldest = this.pending.keys().next().value as string;
      this.pending.delete(oldest);
      this.overflowed.set(this.options.bucketOf(oldest), this.generation);
    }
    this.settle();
  }

  /** The conversation's mark now, to pass to `settled` once a write has made the cache right. */
  stamp(conversationId: string): number | undefined {
    return this.pending.get(conversationId);
  }

  /** Unmarks the conversation, unless a failure marked it again since `stamp`. */
  settled(conversationId: string, stamp: number | undefined): void {
    if (stamp !== undefined && this.pending.get(conversationId) === stamp) this.pending.delete(conversationId);
    this.unsubscribeWhenEmpty();
  }

  /** With nothing left to settle, the connection's return needs no watching. */
  private unsubscribeWhenEmpty(): void {
    if (!this.empty || !this.unsubscribe) return;
    this.unsubscribe();
    this.unsubscribe = undefined;
  }

  /**
   * Stops the settling for good: no clear, no retry, no watching the connection.
   * What is marked stays marked, so it is never served.
   */
  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  /** Starts the background settling, once, if there is anything to settle and the connection answers. */
  settle(): void {
    if (this.closed || this.running || this.empty || !this.options.isReady()) return;
    this.running = true;
    clearTimeout(this.retry);
    void this.run().finally(() => (this.running = false));
  }

  private async run(): Promise<void> {
    while (!this.closed && !this.empty && this.options.isReady()) {
      const batches = this.batches();
      const results = await Promise.allSettled(batches.map((batch) => this.options.clear(batch.bucket, batch.ids)));
      let failed = false;
      results.forEach((result, i) => {
        if (result.status === 'rejected') {
          failed = true;
          return;
        }
        this.options.onCleared(result.value);
        this.forget(batches[i]);
      });
      if (failed && !this.closed) {
        this.options.warn(`settling ${this.pending.size} conversations after failed writes: a clear failed, retrying`);
        this.retry = setTimeout(() => this.settle(), this.options.retryMs);
        this.retry.unref();
        return;
      }
    }
  }

  /** Everything to settle now: each overflowed bucket whole, the other conversations in batches per bucket. */
  private batches(): Batch[] {
    const batches: Batch[] = [...this.overflowed.keys()].map((bucket) => ({
      bucket,
      ids: 'all' as const,
      stamps: new Map(),
      made: this.generation,
    }));
    const byBucket = new Map<number, [string, number][]>();
    for (const [id, stamp] of this.pending) {
      const bucket = this.options.bucketOf(id);
      if (this.overflowed.has(bucket)) continue;
      const list = byBucket.get(bucket) ?? [];
      list.push([id, stamp]);
      byBucket.set(bucket, list);
    }
    for (const [bucket, entries] of byBucket) {
      for (let i = 0; i < entries.length; i += this.options.batchSize) {
        const chunk = entries.slice(i, i + this.options.batchSize);
        batches.push({ bucket, ids: chunk.map(([id]) => id), stamps: new Map(chunk) });
      }
    }
    return batches;
  }

  /** Unmarks what a batch cleared, except what failed again while it ran. */
  private forget(batch: Batch): void {
    if (batch.ids === 'all') {
      const made = batch.made!;
      if (this.overflowed.get(batch.bucket)! <= made) this.overflowed.delete(batch.bucket);
      for (const [id, stamp] of this.pending) {
        if (stamp <= made && this.options.bucketOf(id) === batch.bucket) this.pending.delete(id);
      }
    } else {
      for (const [id, stamp] of batch.stamps) this.settled(id, stamp);
    }
    this.unsubscribeWhenEmpty();
  }
}
