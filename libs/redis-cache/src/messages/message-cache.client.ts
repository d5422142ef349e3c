import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { MessageCacheStats } from './message-cache-stats';
import type { ConnectionState } from '../resilience/breaker';
import { resolvedWithin } from '../resilience/deadline';
import { type Flight, Flights } from '../resilience/flights';
import { ConnectionReadiness } from '../connections/connection-readiness';
import {
  DEFAULT_READY_TIMEOUT_MS,
  MAX_UNSETTLED_CONVERSATIONS,
  SETTLE_BATCH_SIZE,
  SETTLE_RETRY_MS,
} from '../options/defaults';
import { RedisCacheInputError } from '../errors';
import {
  assertArray,
  assertConversationId,
  assertFunction,
  assertJsonObject,
  assertOptions,
  writeTtlMs,
} from '../options/input';
import { bucketBudget, conversationBucket, conversationKeys, type ConversationKeys } from '../keys';
import { isOutOfMemory } from '../resilience/out-of-memory';
import type {
  CacheRuntimeOptions,
  CacheWriteOptions,
  MessageCacheOptions,
  ResolvedMessageOptions,
} from '../options/redis-cache-options';
import { resolveDeadline, resolveMessageOptions } from '../options/resolve-options';
import { SafeRedis } from '../resilience/safe-redis';
import { ThrottledWarning } from '../resilience/throttled-warning';
import type { CacheSpan } from '../tracing/cache-span';
import { CacheTracing } from '../tracing/cache-tracing';
import { defineScripts, runScript, runScriptThen, type ScriptArgument } from '../scripts/lua-scripts';
import { MESSAGE_SCRIPTS, type MessageScript } from './message-scripts';
import { UnsettledConversations } from './unsettled-conversations';
import { asStored, messagesOf, parseMessages, type ReadDecoder } from './stored-messages';

/** A cached message: any plain JSON object. One with an `id` is appended at most once. */
export type CachedMessage = Record<string, unknown>;

/** Which of a conversation's cached messages a read returns. */
export interface ReadMessagesOptions {
  /** Return only the last N messages. */
  last?: number;
}

/** Loads a whole conversation from the database, for `getOrLoadMessages` on a miss. */
export type MessageLoader = () => Promise<CachedMessage[]>;

/** The status a write script returns first (-1, not cached, is any other failure to write here). */
const DONE = 1;
const TOO_LARGE = -2;
const LEASE_LOST = -3;

/** What the message scripts are written in: every reply ends with what they did to other conversations. */
type WriteReply = [status: number, evicted: number, dropped: number];
type ReadReply = [hit: 1, size: number, evicted: number, dropped: number] | [0, string, number, number];

/**
 * One read of a conversation: its messages on a hit, with the JSON text of
 * their array; on a miss, the token of the fill lease held after the read. All
 * undefined when Redis failed.
 */
interface ReadResult<T = CachedMessage[]> {
  readonly messages: T | null;
  readonly json?: string;
  readonly holder?: string;
}

/** What Redis gave a read: a hit's stored messages, each the JSON text of one; or a miss, and the lease holder. */
interface StoredRead {
  readonly items: string[] | null;
  readonly holder?: string;
  readonly readOnly?: boolean;
}

/** The messages a load (or the read before it) gave, and the JSON text of their array when they came. */
interface Landed {
  readonly messages: CachedMessage[];
  readonly json: string;
}

/**
 * A load under way in this process, the lease it observed when it missed, and
 * when it started. Its first caller gets the messages themselves; every other
 * gets its own copy, parsed from the JSON text taken when they came, so that
 * no caller changing its array or messages changes another's.
 */
interface Load extends Flight {
  readonly holder: Promise<string | undefined>;
  readonly landed: Promise<Landed>;
}

/** A conversation's keys and the arguments every message script starts with, in its bucket. */
interface Located {
  readonly k: ConversationKeys;
  readonly ttlMs: number;
  readonly budget: number;
  readonly keys: string[];
  readonly prefixes: string[];
}

/** Messages laid out for a script (count, ids, then JSON texts), and whether they fit the per-call limits. */
interface MessageLayout {
  readonly args: ScriptArgument[];
  readonly texts: string[];
  readonly withinLimits: boolean;
}

/**
 * A read's result from what Redis gave it, decoded here, outside the call to
 * Redis: a conversation that another program wrote damaged (not JSON, or not
 * JSON objects) is no Redis failure. Undefined for a damaged one.
 */
function decoded<T>({ items, holder }: StoredRead, decode: ReadDecoder<T>): ReadResult<T> | undefined {
  if (!items) return { messages: null, holder };
  const json = `[${items.join(',')}]`;
  const messages = decode(json, items.length);
  return messages === undefined ? undefined : { messages, json };
}

/** A read's messages (or their text), null on a miss. */
const messagesOfResult = <T>(result: ReadResult<T>): T | null => result.messages;

/**
 * The conversation message cache, free of any framework: it needs only ioredis,
 * so a Next.js route handler or a worker can share the cache with the
 * Nest `MessageCacheService` (which is this class). Both run the same scripts
 * on the same keys, so a read here counts for LRU and TTL like one there.
 *
 * Write-through contract: the database is written first, then `appendMessages`.
 * `appendMessages` never creates a conversation, and a fill loaded before any
 * write is refused (leases, as in "Scaling Memcache at Facebook").
 *
 * With the OpenTelemetry API installed and an SDK registered, each call is a
 * span (docs/tracing.md).
 */
export class MessageCacheClient {
  /** The options in effect, defaults filled in. */
  readonly options: ResolvedMessageOptions;
  private readonly redis: SafeRedis;
  private readonly counters: MessageCacheStats = {
    hits: 0,
    misses: 0,
    appends: 0,
    fills: 0,
    fillsRefused: 0,
    evictions: 0,
    dropped: 0,
    clears: 0,
    fallbacks: 0,
    readOnlyHits: 0,
  };
  /** Loads under way in this process, by conversation (single-flight). */
  private readonly loading: Flights<Load>;
  /** Conversations a write that failed on Redis may have left stale in the cache. */
  private readonly unsettled: UnsettledConversations;
  private readonly tracing = new CacheTracing('shared');

  constructor(client: Redis | Cluster, options: MessageCacheOptions = {}, runtime: CacheRuntimeOptions = {}) {
    this.options = resolveMessageOptions(options);
    this.loading = new Flights(this.options.loadTimeoutMs);
    defineScripts(client, MESSAGE_SCRIPTS);
    const logger = runtime.logger ?? console;
    // a kind of its own: a clear retried every SETTLE_RETRY_MS must neither flood the log nor hide the calls' fallbacks
    const settling = new ThrottledWarning(logger);
    this.redis = new SafeRedis(client, {
      connection: 'shared',
      deadlineMs: resolveDeadline(runtime.deadlineMs),
      logger,
      breaker: runtime.breaker,
      onFallback: () => this.counters.fallbacks++,
    });
    this.unsettled = new UnsettledConversations({
      max: MAX_UNSETTLED_CONVERSATIONS,
      batchSize: SETTLE_BATCH_SIZE,
      retryMs: SETTLE_RETRY_MS,
      bucketOf: (conversationId) => conversationBucket(conversationId, this.options.buckets),
      clear: (bucket, conversationIds) => this.clearBatch(bucket, conversationIds),
      isReady: () => client.status === 'ready',
      onReady: (listener) => ConnectionReadiness.of(client).onReady(listener),
      onCleared: (count) => (this.counters.clears += count),
      warn: (message) => settling.warn(`Redis connection "shared": ${message}`),
    });
  }

  /** The conversation's messages, `[]` if it is cached empty, or null on a miss or a Redis failure. */
  getCachedMessages(conversationId: string, options?: ReadMessagesOptions): Promise<CachedMessage[] | null> {
    return this.readCached('getCachedMessages', conversationId, options, parseMessages);
  }

  /**
   * The conversation's messages as the JSON text of their array, each exactly as
   * it was cached (`'[]'` if it is cached empty), or null on a miss or a Redis
   * failure: for a route that answers with them, which then needs neither to
   * parse them nor to serialize them again. A read like `getCachedMessages`, which
   * counts and refreshes the same way. The text is not parsed: what another
   * program wrote into the cache's keys goes out unchecked (`getCachedMessages`
   * and `getOrLoadMessages` drop a conversation they find damaged).
   */
  getCachedMessagesJson(conversationId: string, options?: ReadMessagesOptions): Promise<string | null> {
    return this.readCached('getCachedMessagesJson', conversationId, options, asStored);
  }

  /**
   * A read without a lease: the hit's messages decoded by `decode`, or null.
   * Not async, as the hottest path (each async frame and each promise it returns
   * costs the read time): a bad argument still rejects, never throws.
   */
  private readCached<T>(
    operation: 'getCachedMessages' | 'getCachedMessagesJson',
    conversationId: string,
    options: ReadMessagesOptions | undefined,
    decode: ReadDecoder<T>,
  ): Promise<T | null> {
    let last: number;
    try {
      assertConversationId(conversationId);
      last = this.assertLast(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.tracing.run(operation, undefined, (span) => {
      if (this.mayBeStale(conversationId)) {
        this.counters.misses++;
        span?.read(0, 1);
        return Promise.resolve(null);
      }
      return this.read(conversationId, last, '', span, decode).then(messagesOfResult);
    });
  }

  /** Appends to a cached conversation; false (and nothing written) if it is not cached. */
  async appendMessages(conversationId: string, newMessages: CachedMessage[]): Promise<boolean> {
    assertConversationId(conversationId);
    const { args } = this.layOut(newMessages, 'newMessages', true);
    return this.tracing.run('appendMessages', newMessages.length, async (span) => {
      this.loading.drop(conversationId);
      // its cached copy, stale already, is on its way out
      if (this.mayBeStale(conversationId)) {
        span?.wrote(false);
        return this.failed(conversationId);
      }
      const reply = await this.runOnConversation('appendMessages', MESSAGE_SCRIPTS.append, conversationId, args, span);
      if (reply === null) return this.failed(conversationId);
      span?.wrote(reply[0] === DONE);
      if (reply[0] !== DONE) return false;
      this.counters.appends++;
      return true;
    });
  }

  /**
   * Fills or replaces a whole conversation, unconditionally: the write-through
   * fill after a load from the database. Prefer `getOrLoadMessages`, which
   * cannot fill a stale load. False if the conversation alone exceeds the budget.
   * `options.ttlSeconds` gives the conversation a TTL of its own.
   */
  async cacheMessages(
    conversationId: string,
    messages: CachedMessage[],
    options?: CacheWriteOptions,
  ): Promise<boolean> {
    assertConversationId(conversationId);
    const { args } = this.layOut(messages, 'messages', true);
    const ttlMs = writeTtlMs(options, this.ttlMs);
    return this.tracing.run('cacheMessages', messages.length, async (span) => {
      this.loading.drop(conversationId);
      this.unsettled.settle();
      const stamp = this.unsettled.stamp(conversationId);
      const filled = await this.fill(conversationId, '', ttlMs, args, span);
      if (filled === null) return this.failed(conversationId);
      // the conversation is now what the app wrote, or not cached at all
      this.unsettled.settled(conversationId, stamp);
      span?.wrote(filled);
      return filled;
    });
  }

  /**
   * The cached conversation on a hit. On a miss, takes a fill lease, runs
   * `loader`, and fills only if no write to the conversation came in between.
   * Concurrent misses in this process share one load, but a call never joins a
   * load that began before a write this process made to the conversation, nor
   * waits for one longer than `loadTimeoutMs` from its start: it loads for
   * itself instead. Across processes, only the lease holder fills and the others
   * load for themselves. A loader failure or a loader result that is not
   * messages rejects; a Redis failure only means the loader runs. Loaded
   * messages beyond the per-call limits are returned, not cached. Every caller
   * gets its own array and messages. `loader` runs under the call's span.
   */
  async getOrLoadMessages(conversationId: string, loader: MessageLoader): Promise<CachedMessage[]> {
    assertConversationId(conversationId);
    assertFunction(loader, 'loader');
    return this.tracing.run('getOrLoadMessages', undefined, async (span) => {
      if (this.mayBeStale(conversationId)) {
        span?.read(0, 1);
        return loader();
      }
      const token = randomUUID();
      const current = this.loading.joinable(conversationId);
      const read = this.read(conversationId, 0, token, span, parseMessages);
      if (current) {
        const [own, holder] = await Promise.all([read, current.holder]);
        if (own.messages) return own.messages;
        // the same lease (or Redis failing for both reads) means no write since that load began: a write from
        // this process would have ended the flight, and one from elsewhere deletes the lease
        if (own.holder === holder) {
          const joined = await this.within(current, conversationId);
          if (joined) return joined;
        }
      }
      return (await this.fly(conversationId, loader, token, read, span).landed).messages;
    });
  }

  /** Removes a conversation and makes any fill under way for it void. */
  async clearConversation(conversationId: string): Promise<boolean> {
    assertConversationId(conversationId);
    return this.tracing.run('clearConversation', undefined, async (span) => {
      this.loading.drop(conversationId);
      this.unsettled.settle();
      const stamp = this.unsettled.stamp(conversationId);
      const extra = [this.locate(conversationId).k.leasePrefix, 'listed'];
      const reply = await this.runOnConversation(
        'clearConversation',
        MESSAGE_SCRIPTS.clear,
        conversationId,
        extra,
        span,
      );
      if (reply === null) return this.failed(conversationId);
      this.counters.clears += reply[0];
      this.unsettled.settled(conversationId, stamp);
      span?.wrote(true);
      return true;
    });
  }

  /**
   * Stops the background clearing of conversations whose writes failed, and
   * takes off what it watches on the ioredis client: for a cache dropped while
   * its client lives on. The client itself is not closed, as it is yours. Calls
   * made after it still run, but a conversation whose write fails stays a miss
   * here. `MessageCacheService` is closed with the module.
   */
  close(): void {
    this.unsettled.close();
  }

  /** The cache's counters since it was created, as a copy. */
  stats(): MessageCacheStats {
    return { ...this.counters };
  }

  /**
   * Resolves true once the connection is ready (on a cluster, with all its
   * masters), false after `timeoutMs`; never rejects. Calls need not wait for
   * it, since a call on a connection still connecting waits within its
   * deadline; it is for an app that wants to know, say before taking traffic.
   */
  ready(timeoutMs: number = DEFAULT_READY_TIMEOUT_MS): Promise<boolean> {
    return this.redis.whenReady(timeoutMs);
  }

  /** The connection's name, its ioredis status and its circuit breaker's state, for metrics. */
  connectionState(): ConnectionState {
    return this.redis.connectionState();
  }

  /**
   * Whether a write to the conversation failed on Redis and its cached copy is
   * not cleared yet. Starts that clearing, in the background, if it is due.
   */
  private mayBeStale(conversationId: string): boolean {
    this.unsettled.settle();
    return this.unsettled.has(conversationId);
  }

  /** A write that failed on Redis: the cached copy may be stale until it is cleared. */
  private failed(conversationId: string): false {
    this.unsettled.mark(conversationId);
    return false;
  }

  /** A copy of the flight's messages, if they come before `loadTimeoutMs` from its start; undefined if not. */
  private async within(flight: Load, conversationId: string): Promise<CachedMessage[] | undefined> {
    const landed = await resolvedWithin(flight.landed, this.loading.left(flight));
    if (!landed) this.loading.forget(conversationId, flight);
    return landed && (JSON.parse(landed.json) as CachedMessage[]);
  }

  /**
   * Starts a load that later calls in this process may join, and registers it
   * until it settles, or until `loadTimeoutMs` passes, when no call joins it any
   * more: a load that never settles is then forgotten.
   */
  private fly(
    conversationId: string,
    loader: MessageLoader,
    token: string,
    read: Promise<ReadResult>,
    span: CacheSpan | undefined,
  ): Load {
    const flight: Load = {
      holder: read.then((result) => result.holder),
      landed: read.then(({ messages, json, holder }) =>
        messages && json !== undefined
          ? { messages, json }
          : this.loadAndFill(conversationId, loader, token, holder === token, span),
      ),
      startedAt: performance.now(),
    };
    this.loading.add([[conversationId, flight]], flight.landed);
    return flight;
  }

  private async loadAndFill(
    conversationId: string,
    loader: MessageLoader,
    token: string,
    leased: boolean,
    span: CacheSpan | undefined,
  ): Promise<Landed> {
    const messages = await loader();
    const { args, texts, withinLimits } = this.layOut(messages, 'loader()', false);
    // taken before any caller has the messages, to change them
    const json = `[${texts.join(',')}]`;
    if (leased && withinLimits) await this.fill(conversationId, token, this.ttlMs, args, span);
    return { messages, json };
  }

  private read<T>(
    conversationId: string,
    last: number,
    leaseToken: string,
    span: CacheSpan | undefined,
    decode: ReadDecoder<T>,
  ): Promise<ReadResult<T>> {
    const { ttlMs, budget, keys, prefixes, k } = this.locate(conversationId);
    const stored = (): Promise<StoredRead> => {
      const args = [conversationId, ttlMs, budget, ...prefixes, leaseToken, this.options.leaseTtlMs];
      const range = last > 0 ? [-last, -1] : [0, -1];
      return runScriptThen(this.redis.client, MESSAGE_SCRIPTS.read, keys, args, ['lrange', k.messages, ...range]).then(
        (replies) => {
          const [script, list] = replies as [ReadReply, string[]];
          this.count(script[2], script[3], span);
          if (script[0] === 0) return { items: null, holder: script[1] };
          const items = messagesOf(list, last);
          return items ? { items } : { items: null, holder: '' };
        },
        async (error: unknown) => {
          if (!isOutOfMemory(error)) throw error;
          return { items: await this.readOnly(k, last, budget), readOnly: true };
        },
      );
    };
    return this.redis.run('getCachedMessages', null, stored, k.messages, span).then((reply) => {
      if (reply === null) return { messages: null };
      const result = decoded(reply, decode);
      if (result === undefined)
        return this.dropDamaged(conversationId, span).then((dropped) => this.counted(dropped, false, span));
      return this.counted(result, reply.readOnly === true, span);
    });
  }

  /** Counts a read's hit or miss (and a hit served read-only) and reports it to its span. */
  private counted<T>(result: ReadResult<T>, readOnly: boolean, span: CacheSpan | undefined): ReadResult<T> {
    if (result.messages) this.counters.hits++;
    else this.counters.misses++;
    if (result.messages && readOnly) this.counters.readOnlyHits++;
    span?.read(result.messages ? 1 : 0, 1);
    return result;
  }

  /**
   * Drops a conversation a read found damaged, so that the next load fills it
   * again, and gives the read a miss without a lease. If Redis fails, the
   * conversation is not served here until it is cleared, as after a failed write.
   */
  private async dropDamaged(conversationId: string, span: CacheSpan | undefined): Promise<ReadResult<never>> {
    const extra = [this.locate(conversationId).k.leasePrefix, 'listed'];
    const reply = await this.runOnConversation('dropDamaged', MESSAGE_SCRIPTS.clear, conversationId, extra, span);
    if (reply === null) this.failed(conversationId);
    else this.counters.dropped += reply[0];
    return { messages: null, holder: '' };
  }

  /**
   * A read while Redis refuses writes (`maxmemory` reached under `noeviction`):
   * the list alone, natively, without the script's touch. No lease is taken,
   * so a load after this miss does not fill. A conversation over the budget
   * (cached under a larger one) is a miss, as the script would make it.
   */
  private async readOnly(k: ConversationKeys, last: number, budget: number): Promise<string[] | null> {
    // the whole list, since without the script nothing else checked its header
    const all = messagesOf(await this.redis.client.lrange(k.messages, 0, -1), 0);
    if (!all || all.length > budget) return null;
    return last > 0 ? all.slice(-last) : all;
  }

  /**
   * Fills with a TTL of `ttlMs`, the conversation's own unless it is the cache's.
   * True if filled, false if refused (lease lost, or too large), null on a Redis failure.
   */
  private async fill(
    conversationId: string,
    leaseToken: string,
    ttlMs: number,
    args: ScriptArgument[],
    span: CacheSpan | undefined,
  ): Promise<boolean | null> {
    const extra = [leaseToken, ttlMs, ...args];
    const reply = await this.runOnConversation('cacheMessages', MESSAGE_SCRIPTS.fill, conversationId, extra, span);
    if (reply === null) return null;
    if (reply[0] === TOO_LARGE) return false;
    if (reply[0] === LEASE_LOST) {
      this.counters.fillsRefused++;
      return false;
    }
    this.counters.fills++;
    return true;
  }

  /** Runs a write script; null on a Redis failure, else its reply, with what it did to others counted. */
  private runOnConversation(
    operation: string,
    script: MessageScript,
    conversationId: string,
    extra: ScriptArgument[],
    span: CacheSpan | undefined,
  ): Promise<WriteReply | null> {
    const located = this.locate(conversationId);
    return this.redis.run(
      operation,
      null,
      () => this.runWriteScript(script, conversationId, located, extra, span),
      located.k.messages,
      span,
    );
  }

  /**
   * The settling's clear of a batch of one bucket's conversations (or all of
   * them), within the deadline and through the breaker like any call; rejects on
   * a failure.
   */
  private async clearBatch(bucket: number, conversationIds: readonly string[] | 'all'): Promise<number> {
    const [first = '', ...others] = conversationIds === 'all' ? [] : conversationIds;
    const located = this.locate(first, bucket);
    const scope = conversationIds === 'all' ? 'all' : 'listed';
    const extra = [located.k.leasePrefix, scope, ...others];
    const clear = () => this.runWriteScript(MESSAGE_SCRIPTS.clear, first, located, extra);
    const [cleared] = await this.redis.attempt(clear, located.k.messages);
    return cleared;
  }

  /** Runs a write script on a located conversation and counts what it did to the others; rejects on a failure. */
  private async runWriteScript(
    script: MessageScript,
    conversationId: string,
    { ttlMs, budget, keys, prefixes }: Located,
    extra: ScriptArgument[],
    span?: CacheSpan,
  ): Promise<WriteReply> {
    const args = [conversationId, ttlMs, budget, ...prefixes, ...extra];
    const reply = (await runScript(this.redis.client, script, keys, args)) as WriteReply;
    this.count(reply[1], reply[2], span);
    return reply;
  }

  private count(evicted: number, dropped: number, span: CacheSpan | undefined): void {
    this.counters.evictions += evicted;
    this.counters.dropped += dropped;
    span?.evicted(evicted);
  }

  private get ttlMs(): number {
    return this.options.ttlSeconds * 1000;
  }

  /** The keys and script arguments of a conversation, in its bucket (or in `bucket`, for a batch). */
  private locate(conversationId: string, bucket = conversationBucket(conversationId, this.options.buckets)): Located {
    const { buckets, maxCachedMessages } = this.options;
    const k = conversationKeys(conversationId, bucket);
    return {
      k,
      ttlMs: this.ttlMs,
      budget: bucketBudget(maxCachedMessages, buckets, bucket),
      keys: [k.messages, k.ids, k.lease, k.lru, k.sizes, k.total, k.deadlines],
      prefixes: [k.messagesPrefix, k.idsPrefix],
    };
  }

  /**
   * Validates messages and lays them out for a script. With `enforceLimits` a
   * message count or size over the limits rejects; without (a loader's result,
   * which is the database's truth, not a caller's mistake) it is only reported.
   */
  private layOut(messages: unknown, argument: string, enforceLimits: boolean): MessageLayout {
    const { maxMessagesPerCall, maxMessageBytes, maxCallBytes } = this.options;
    assertArray(messages, argument, enforceLimits ? maxMessagesPerCall : Infinity);
    let withinLimits = messages.length <= maxMessagesPerCall;
    const ids: string[] = [];
    const texts: string[] = [];
    let callBytes = 0;
    // an index loop, unlike forEach, also visits the holes of a sparse array
    for (let i = 0; i < messages.length; i++) {
      const message: unknown = messages[i];
      assertJsonObject(message, `${argument}[${i}]`);
      const text = JSON.stringify(message);
      const bytes = Buffer.byteLength(text);
      callBytes += bytes;
      if (bytes > maxMessageBytes || callBytes > maxCallBytes) {
        if (enforceLimits) {
          const problem =
            bytes > maxMessageBytes
              ? `must serialize to at most ${maxMessageBytes} bytes`
              : `takes the call past ${maxCallBytes} bytes of messages (maxCallBytes)`;
          throw new RedisCacheInputError(`${argument}[${i}]`, problem);
        }
        withinLimits = false;
      }
      const id = message.id;
      ids.push(typeof id === 'string' || typeof id === 'number' ? JSON.stringify(id) : '');
      texts.push(text);
    }
    return { args: [messages.length, ...ids, ...texts], texts, withinLimits };
  }

  private assertLast(options: ReadMessagesOptions | undefined): number {
    assertOptions(options);
    const last = options?.last;
    if (last === undefined) return 0;
    if (typeof last !== 'number' || !Number.isSafeInteger(last) || last < 1) {
      throw new RedisCacheInputError('options.last', 'must be an integer >= 1');
    }
    return last;
  }
}
