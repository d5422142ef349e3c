import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { MessageCacheStats } from './cache-stats';
import type { ConnectionState } from './connection-breaker';
import { DEFAULT_READY_TIMEOUT_MS, MAX_UNSETTLED_CONVERSATIONS } from './defaults';
import { RedisCacheInputError } from './errors';
import { assertArray, assertConversationId, assertFunction, assertJsonObject } from './input';
import { bucketBudget, conversationBucket, conversationKeys } from './keys';
import type { CacheRuntimeOptions, MessageCacheOptions, ResolvedMessageOptions } from './redis-cache-options.interface';
import { resolveDeadline, resolveMessageOptions } from './resolve-options';
import { SafeRedis } from './safe-redis';
import { defineScripts, runScript, type ScriptArgument, type ScriptName } from './scripts';

/** A cached message: any plain JSON object. One with an `id` is appended at most once. */
export type CachedMessage = Record<string, unknown>;

export interface ReadMessagesOptions {
  /** Return only the last N messages. */
  last?: number;
}

export type MessageLoader = () => Promise<CachedMessage[]>;

/** What the scripts return besides an eviction count (>= 0). */
const NOT_CACHED = -1;
const TOO_LARGE = -2;
const LEASE_LOST = -3;

/**
 * One read of a conversation: its messages on a hit; on a miss, the token of the
 * fill lease held after the read. Both undefined when Redis failed.
 */
interface ReadResult {
  readonly messages: CachedMessage[] | null;
  readonly holder?: string;
}

/** A load under way in this process, and the lease it observed when it missed. */
interface Flight {
  readonly holder: Promise<string | undefined>;
  readonly messages: Promise<CachedMessage[]>;
}

/** Messages laid out for a script (count, ids, then JSON texts), and whether they fit the per-call limits. */
interface MessageLayout {
  readonly args: ScriptArgument[];
  readonly withinLimits: boolean;
}

/**
 * The conversation message cache, free of any framework: its only dependency is
 * ioredis, so a Next.js route handler or a worker can share the cache with the
 * Nest `MessageCacheService` (which is this class). Both run the same scripts
 * on the same keys, so a read here counts for LRU and TTL like one there.
 *
 * Write-through contract: the database is written first, then `appendMessages`.
 * `appendMessages` never creates a conversation, and a fill loaded before any
 * write is refused (leases, as in "Scaling Memcache at Facebook").
 */
export class MessageCacheClient {
  readonly options: ResolvedMessageOptions;
  protected readonly redis: SafeRedis;
  private readonly counters: MessageCacheStats = {
    hits: 0,
    misses: 0,
    appends: 0,
    fills: 0,
    fillsRefused: 0,
    evictions: 0,
    fallbacks: 0,
  };
  /** Loads under way in this process, by conversation (single-flight). */
  private readonly loading = new Map<string, Flight>();
  /**
   * Conversations that a write which failed on Redis may have left stale in the
   * cache (the database has the write, the cache may not): each is cleared
   * before this client's next call once the connection is back.
   */
  private readonly unsettled = new Set<string>();

  constructor(client: Redis | Cluster, options: MessageCacheOptions = {}, runtime: CacheRuntimeOptions = {}) {
    this.options = resolveMessageOptions(options);
    defineScripts(client);
    this.redis = new SafeRedis(client, {
      connection: 'shared',
      deadlineMs: resolveDeadline(runtime.deadlineMs),
      logger: runtime.logger ?? console,
      breaker: runtime.breaker,
      onFallback: () => this.counters.fallbacks++,
    });
  }

  /** The conversation's messages, `[]` if it is cached empty, or null on a miss or a Redis failure. */
  async getCachedMessages(conversationId: string, options: ReadMessagesOptions = {}): Promise<CachedMessage[] | null> {
    assertConversationId(conversationId);
    const last = this.assertLast(options);
    if (!(await this.settle())) return null;
    const reply = await this.read(conversationId, last, '');
    return reply.messages;
  }

  /** Appends to a cached conversation; false (and nothing written) if it is not cached. */
  async appendMessages(conversationId: string, newMessages: CachedMessage[]): Promise<boolean> {
    assertConversationId(conversationId);
    const { args } = this.layOut(newMessages, 'newMessages', true);
    const result = (await this.settle())
      ? await this.runOnConversation('appendMessages', 'messageAppend', conversationId, args)
      : null;
    if (result === null) this.markUnsettled(conversationId);
    if (result === null || result === NOT_CACHED || result === TOO_LARGE) return false;
    this.counters.appends++;
    return true;
  }

  /**
   * Fills or replaces a whole conversation, unconditionally: the write-through
   * fill after a load from the database. Prefer `getOrLoadMessages`, which
   * cannot fill a stale load. False if the conversation alone exceeds the budget.
   */
  async cacheMessages(conversationId: string, messages: CachedMessage[]): Promise<boolean> {
    assertConversationId(conversationId);
    const { args } = this.layOut(messages, 'messages', true);
    const filled = (await this.settle()) ? await this.fill(conversationId, '', args) : null;
    if (filled === null) this.markUnsettled(conversationId);
    return filled === true;
  }

  /**
   * The cached conversation on a hit. On a miss, takes a fill lease, runs
   * `loader`, and fills only if no write to the conversation came in between.
   * Concurrent misses in this process share one load, but a call never joins a
   * load that began before a write it follows. Across processes, only the lease
   * holder fills and the others load for themselves. A loader failure or a
   * loader result that is not messages rejects; a Redis failure only means the
   * loader runs. Loaded messages beyond the per-call limits are returned, not cached.
   */
  async getOrLoadMessages(conversationId: string, loader: MessageLoader): Promise<CachedMessage[]> {
    assertConversationId(conversationId);
    assertFunction(loader, 'loader');
    if (!(await this.settle())) return loader();
    const token = randomUUID();
    const current = this.loading.get(conversationId);
    const read = this.read(conversationId, 0, token);
    if (current) {
      const [own, holder] = await Promise.all([read, current.holder]);
      if (own.messages) return own.messages;
      // the same lease (or Redis failing for both reads) means no write since that load began
      if (own.holder === holder) return current.messages;
    }
    return this.fly(conversationId, loader, token, read).messages;
  }

  /** Removes a conversation and makes any fill under way for it void. */
  async clearConversation(conversationId: string): Promise<boolean> {
    assertConversationId(conversationId);
    const result = (await this.settle())
      ? await this.runOnConversation('clearConversation', 'messageClear', conversationId, [])
      : null;
    if (result === null) this.markUnsettled(conversationId);
    return result !== null;
  }

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

  /** Starts a load that later calls in this process may join, and registers it until it settles. */
  private fly(conversationId: string, loader: MessageLoader, token: string, read: Promise<ReadResult>): Flight {
    const flight: Flight = {
      holder: read.then((result) => result.holder),
      messages: read.then(
        (result) => result.messages ?? this.loadAndFill(conversationId, loader, token, result.holder === token),
      ),
    };
    this.loading.set(conversationId, flight);
    const land = () => {
      if (this.loading.get(conversationId) === flight) this.loading.delete(conversationId);
    };
    flight.messages.then(land, land);
    return flight;
  }

  private async loadAndFill(
    conversationId: string,
    loader: MessageLoader,
    token: string,
    leased: boolean,
  ): Promise<CachedMessage[]> {
    const messages = await loader();
    const { args, withinLimits } = this.layOut(messages, 'loader()', false);
    if (leased && withinLimits) await this.fill(conversationId, token, args);
    return messages;
  }

  private async read(conversationId: string, last: number, leaseToken: string): Promise<ReadResult> {
    const { ttlMs, budget, keys, prefixes } = this.locate(conversationId);
    const reply = await this.redis.run(
      'getCachedMessages',
      null,
      async () => {
        const args = [conversationId, ttlMs, budget, ...prefixes, last, leaseToken, this.options.leaseTtlMs];
        const reply = (await runScript(this.redis.client, 'messageRead', keys, args)) as [1, string[]] | [0, string];
        // parsed here so that a damaged value counts as a Redis failure, not the caller's
        if (reply[0] === 0) return { messages: null, holder: reply[1] };
        return { messages: JSON.parse(`[${reply[1].join(',')}]`) as CachedMessage[] };
      },
      keys[0],
    );
    if (reply === null) return { messages: null };
    if (reply.messages) this.counters.hits++;
    else this.counters.misses++;
    return reply;
  }

  /** True if filled, false if refused (lease lost, or too large), null on a Redis failure. */
  private async fill(conversationId: string, leaseToken: string, args: ScriptArgument[]): Promise<boolean | null> {
    const result = await this.runOnConversation('cacheMessages', 'messageFill', conversationId, [leaseToken, ...args]);
    if (result === null) return null;
    if (result === TOO_LARGE) return false;
    if (result === LEASE_LOST) {
      this.counters.fillsRefused++;
      return false;
    }
    this.counters.fills++;
    return true;
  }

  /**
   * Clears the conversations a failed write may have left stale, while Redis
   * answers. False when a clear failed: the caller then gives its fallback at once, so a
   * call never waits out two deadlines. While the connection is down there is
   * nothing to try, and the call's own fallback is immediate.
   */
  private async settle(): Promise<boolean> {
    for (const conversationId of this.unsettled) {
      if (this.redis.client.status !== 'ready') return true;
      const result = await this.runOnConversation('clearConversation', 'messageClear', conversationId, []);
      if (result === null) return false;
      this.unsettled.delete(conversationId);
    }
    return true;
  }

  /** Bounded, so that a long outage can't grow the heap; the oldest is forgotten first. */
  private markUnsettled(conversationId: string): void {
    this.unsettled.delete(conversationId);
    this.unsettled.add(conversationId);
    if (this.unsettled.size > MAX_UNSETTLED_CONVERSATIONS) {
      this.unsettled.delete(this.unsettled.values().next().value as string);
    }
  }

  /** Runs a write script; null on a Redis failure, else the script's result, evictions counted. */
  private runOnConversation(
    operation: string,
    script: ScriptName,
    conversationId: string,
    extra: ScriptArgument[],
  ): Promise<number | null> {
    const { ttlMs, budget, keys, prefixes } = this.locate(conversationId);
    return this.redis.run(
      operation,
      null,
      async () => {
        const args = [conversationId, ttlMs, budget, ...prefixes, ...extra];
        const result = (await runScript(this.redis.client, script, keys, args)) as number;
        if (result > 0) this.counters.evictions += result;
        return result;
      },
      keys[0],
    );
  }

  private locate(conversationId: string) {
    const { buckets, maxCachedMessages, ttlSeconds } = this.options;
    const bucket = conversationBucket(conversationId, buckets);
    const k = conversationKeys(conversationId, bucket);
    return {
      ttlMs: ttlSeconds * 1000,
      budget: bucketBudget(maxCachedMessages, buckets, bucket),
      keys: [k.messages, k.ids, k.lease, k.lru, k.sizes, k.total],
      prefixes: [k.messagesPrefix, k.idsPrefix],
    };
  }

  /**
   * Validates messages and lays them out for a script. With `enforceLimits` a
   * message count or size over the limits rejects; without (a loader's result,
   * which is the database's truth, not a caller's mistake) it is only reported.
   */
  private layOut(messages: unknown, argument: string, enforceLimits: boolean): MessageLayout {
    const { maxMessagesPerCall, maxMessageBytes } = this.options;
    assertArray(messages, argument, enforceLimits ? maxMessagesPerCall : Infinity);
    let withinLimits = messages.length <= maxMessagesPerCall;
    const ids: string[] = [];
    const texts: string[] = [];
    messages.forEach((message, i) => {
      assertJsonObject(message, `${argument}[${i}]`);
      const text = JSON.stringify(message);
      if (Buffer.byteLength(text) > maxMessageBytes) {
        if (enforceLimits) {
          throw new RedisCacheInputError(`${argument}[${i}]`, `must serialize to at most ${maxMessageBytes} bytes`);
        }
        withinLimits = false;
      }
      const id = message.id;
      ids.push(typeof id === 'string' || typeof id === 'number' ? JSON.stringify(id) : '');
      texts.push(text);
    });
    return { args: [messages.length, ...ids, ...texts], withinLimits };
  }

  private assertLast(options: ReadMessagesOptions): number {
    if (typeof options !== 'object' || options === null) throw new RedisCacheInputError('options', 'must be an object');
    const { last } = options;
    if (last === undefined) return 0;
    if (typeof last !== 'number' || !Number.isSafeInteger(last) || last < 1) {
      throw new RedisCacheInputError('options.last', 'must be an integer >= 1');
    }
    return last;
  }
}
