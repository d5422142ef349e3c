import type { Cluster, Redis } from 'ioredis';
import type { EmbeddingKeys } from '../../keys';
import { NEAR_CACHE_TOUCH_FLUSH_MS } from '../../options/defaults';
import type { CacheLogger, ResolvedNearCacheOptions } from '../../options/redis-cache-options';
import { ThrottledWarning } from '../../resilience/throttled-warning';
import { untraced } from '../../tracing/cache-tracing';
import { InvalidationChannel } from './invalidation-channel';
import { NearEntries, type NearEntry } from './near-entries';
import { ReadFence } from './read-fence';

/** How much memory the near cache holds, as `EmbeddingCacheService.nearCacheUsage()` reports it. */
export interface NearCacheUsage {
  /** How many vectors it holds. */
  entries: number;
  /** The bytes they count for (8 per dimension, 2 per character of their text, 400 per entry); at most `maxBytes`. */
  bytes: number;
  /** Its `maxBytes` option. */
  maxBytes: number;
  /** Whether it serves hits now: its invalidation channel is subscribed on every master and answered in time. */
  serving: boolean;
}

/** The prefix ioredis puts before every key of the client's commands (its `keyPrefix`), which announcements carry. */
function keyPrefixOf(client: Redis | Cluster): string {
  const options = client.options as { keyPrefix?: string; redisOptions?: { keyPrefix?: string } };
  return options.keyPrefix ?? options.redisOptions?.keyPrefix ?? '';
}

/** What the near cache needs from the service it sits in. */
export interface NearCacheContext {
  readonly client: Redis | Cluster;
  readonly options: ResolvedNearCacheOptions;
  /** The most fields one touch script takes: the cache's `maxBatchSize`. */
  readonly maxBatchSize: number;
  readonly logger: CacheLogger;
  /** The connection's name, in log lines. */
  readonly connection: string;
  /**
   * Refreshes the LRU place and TTL of the user's `fields` in Redis: the ms from then to each one's expiry (0 if
   * it is gone), or null when Redis failed.
   */
  readonly touch: (keys: EmbeddingKeys, fields: string[]) => Promise<number[] | null>;
}

/**
 * The embedding near cache: vectors kept decoded in this process, in front of
 * Redis, served with no Redis call.
 *
 * - A hit is served while the invalidation channel is live (`InvalidationChannel`)
 *   and the entry is well within the time Redis keeps it: up to a quarter of its
 *   TTL before the expiry Redis answered with at its last read or touch.
 * - A hit asks for a touch once `touchIntervalMs`, or half the entry's TTL, has
 *   passed since its last one; the touches of all hits leave together within
 *   `NEAR_CACHE_TOUCH_FLUSH_MS`, one script per user, and each answers the
 *   entry's new expiry, or that it is gone.
 * - A read that missed fills it only if the channel is subscribed and no
 *   invalidation of the user came while it was under way (`ReadFence`).
 * - An invalidation (a clear or a write, here or announced by any process)
 *   removes the user's entries, or the fields named; a subscription that began
 *   or ended removes every entry.
 */
export class NearCache {
  private readonly entries: NearEntries;
  private readonly fence = new ReadFence();
  private readonly channel: InvalidationChannel;
  private readonly warning: ThrottledWarning;
  /** The entries whose touch waits to be sent, by user (`vec` key). */
  private readonly queued = new Map<string, NearEntry[]>();
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly keyPrefix: string;

  constructor(private readonly context: NearCacheContext) {
    this.keyPrefix = keyPrefixOf(context.client);
    this.entries = new NearEntries(context.options.maxBytes);
    this.warning = new ThrottledWarning(context.logger);
    // its connections and its heartbeat belong to no caller's trace
    this.channel = untraced(
      () =>
        new InvalidationChannel(context.client, {
          message: (text) => this.invalidated(text),
          resync: () => {
            this.fence.all();
            this.entries.clear();
          },
          refused: (reason) =>
            this.warning.warn(
              `Redis connection "${context.connection}" refused the near cache's subscription, which serves nothing ` +
                `without it: ${reason}`,
            ),
        }),
    );
  }

  /** A copy of the user's vector for `text` if it may be served now, as `number[]` or a `Float32Array`. */
  get(userId: string, text: string, asFloat32Array: boolean | undefined): number[] | Float32Array | undefined {
    const now = performance.now();
    if (now >= this.channel.liveUntil) return undefined;
    const entry = this.entries.use(userId, text);
    if (!entry) return undefined;
    // the last quarter is left to a read from Redis, which keeps the entry there if the touch of a hit could not
    if (now >= entry.expiresAt - entry.ttlMs / 4) {
      this.entries.remove(entry);
      return undefined;
    }
    if (!entry.queued && now - entry.touchedAt >= Math.min(this.context.options.touchIntervalMs, entry.ttlMs / 2)) {
      this.queue(entry);
    }
    return asFloat32Array ? Float32Array.from(entry.vector) : entry.vector.slice();
  }

  /** A ticket for a read about to be sent to Redis; `end()` it once the reply is handled. */
  begin(): number {
    return this.fence.begin();
  }

  end(): void {
    this.fence.end();
  }

  /**
   * Keeps `vector` (which the near cache then owns) as the user's entry for
   * `text`, found in Redis by the read of `ticket` sent at `sentAt`, which
   * answered that Redis keeps it `expiresInMs` more; unless an invalidation came
   * while the read was under way, or the channel is not subscribed. True if kept.
   */
  fill(
    ticket: number,
    userId: string,
    keys: EmbeddingKeys,
    entry: { text: string; field: string; vector: readonly number[]; expiresInMs: number; sentAt: number },
  ): boolean {
    const { text, field, vector, expiresInMs, sentAt } = entry;
    if (expiresInMs <= 0 || !this.channel.subscribed || !this.fence.admits(ticket, keys.vectors)) return false;
    return this.entries.add(userId, keys, {
      text,
      field,
      vector,
      expiresAt: sentAt + expiresInMs,
      ttlMs: expiresInMs,
      touchedAt: sentAt,
    });
  }

  /** Forgets the user's entries of `fields` (or all of them), and keeps the reads under way from filling them. */
  forget(keys: EmbeddingKeys, fields?: Iterable<string>): void {
    this.fence.user(keys.vectors);
    this.entries.forget(keys.vectors, fields);
  }

  usage(): NearCacheUsage {
    const { entries, bytes, maxBytes } = this.entries;
    return { entries, bytes, maxBytes, serving: performance.now() < this.channel.liveUntil };
  }

  /** Stops serving, forgets everything, and closes the subscriber connections. */
  async close(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.queued.clear();
    await this.channel.close();
    this.fence.all();
    this.entries.clear();
  }

  /** An announcement: the user's `vec` key, then the fields that changed, or none when all of them are gone. */
  private invalidated(text: string): void {
    const [key, ...fields] = text.split(' ');
    const vectorsKey = key.startsWith(this.keyPrefix) ? key.slice(this.keyPrefix.length) : key;
    this.fence.user(vectorsKey);
    this.entries.forget(vectorsKey, fields.length > 0 ? fields : undefined);
  }

  private queue(entry: NearEntry): void {
    entry.queued = true;
    const key = entry.user.keys.vectors;
    const list = this.queued.get(key);
    if (list) list.push(entry);
    else this.queued.set(key, [entry]);
    if (this.flushTimer) return;
    // the touches belong to no caller's trace, though a hit in one queued them
    this.flushTimer = untraced(() => setTimeout(() => this.flush(), NEAR_CACHE_TOUCH_FLUSH_MS));
    this.flushTimer.unref();
  }

  /** Sends every queued touch, in the same tick: one script per user and `maxBatchSize` fields. */
  private flush(): void {
    this.flushTimer = undefined;
    const lists = [...this.queued.values()];
    this.queued.clear();
    const { maxBatchSize } = this.context;
    for (const list of lists) {
      for (const entry of list) entry.queued = false;
      const held = list.filter((entry) => this.entries.holds(entry));
      for (let first = 0; first < held.length; first += maxBatchSize) {
        void this.touch(held.slice(first, first + maxBatchSize));
      }
    }
  }

  /** Touches one user's entries in Redis, and keeps each until its new expiry, or forgets it if Redis lost it. */
  private async touch(batch: NearEntry[]): Promise<void> {
    const sentAt = performance.now();
    for (const entry of batch) entry.touchedAt = sentAt;
    const expiries = await this.context.touch(
      batch[0].user.keys,
      batch.map((entry) => entry.field),
    );
    if (!expiries) return;
    batch.forEach((entry, i) => {
      if (!this.entries.holds(entry)) return;
      if (expiries[i] > 0) {
        entry.expiresAt = sentAt + expiries[i];
        entry.ttlMs = expiries[i];
      } else {
        this.entries.remove(entry);
      }
    });
  }
}
