import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { MessageCacheStats } from './cache-stats';
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
  private readonly loading = new Map<string, Promise<CachedMessage[]>>();

  constructor(client: Redis | Cluster, options: MessageCacheOptions = {}, runtime: CacheRuntimeOptions = {}) {
    this.options = resolveMessageOptions(options);
    defineScripts(client);
    this.redis = new SafeRedis(client, {
      connection: 'shared',
      deadlineMs: resolveDeadline(runtime.deadlineMs),
      logger: runtime.logger ?? console,
      onFallback: () => this.counters.fallbacks++,
    });
  }

  /** The conversation's messages, `[]` if it is cached empty, or null on a miss or a Redis failure. */
  async getCachedMessages(conversationId: string, options: ReadMessagesOptions = {}): Promise<CachedMessage[] | null> {
    assertConversationId(conversationId);
    const last = this.assertLast(options);
    const reply = await this.read(conversationId, last, '');
    return reply.messages;
  }

  /** Appends to a cached conversation; false (and nothing written) if it is not cached. */
  async appendMessages(conversationId: string, newMessages: CachedMessage[]): Promise<boolean> {
    assertConversationId(conversationId);
    const args = this.messageArguments(newMessages, 'newMessages');
    const result = await this.runOnConversation('appendMessages', 'messageAppend', conversationId, args);
    if (result === null || result === NOT_CACHED) return false;
    if (result === TOO_LARGE) return false;
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
    const args = this.messageArguments(messages, 'messages');
    return this.fill(conversationId, '', args);
  }

  /**
   * The cached conversation on a hit. On a miss, takes a fill lease, runs
   * `loader`, and fills only if no write to the conversation came in between.
   * Concurrent misses in this process share one load; across processes, only
   * the lease holder fills and the others load for themselves. A loader
   * failure rejects; a Redis failure only means the loader runs.
   */
  async getOrLoadMessages(conversationId: string, loader: MessageLoader): Promise<CachedMessage[]> {
    assertConversationId(conversationId);
    assertFunction(loader, 'loader');
    const shared = this.loading.get(conversationId);
    if (shared) return shared;
    const load = this.loadThroughLease(conversationId, loader);
    this.loading.set(conversationId, load);
    try {
      return await load;
    } finally {
      this.loading.delete(conversationId);
    }
  }

  /** Removes a conversation and makes any fill under way for it void. */
  async clearConversation(conversationId: string): Promise<boolean> {
    assertConversationId(conversationId);
    const result = await this.runOnConversation('clearConversation', 'messageClear', conversationId, []);
    return result !== null;
  }

  stats(): MessageCacheStats {
    return { ...this.counters };
  }

  private async loadThroughLease(conversationId: string, loader: MessageLoader): Promise<CachedMessage[]> {
    const token = randomUUID();
    const cached = await this.read(conversationId, 0, token);
    if (cached.messages) return cached.messages;
    const messages = await loader();
    const args = this.messageArguments(messages, 'loader()');
    if (cached.leased) await this.fill(conversationId, token, args);
    return messages;
  }

  private async read(
    conversationId: string,
    last: number,
    leaseToken: string,
  ): Promise<{ messages: CachedMessage[] | null; leased: boolean }> {
    const { ttlMs, budget, keys, prefixes } = this.locate(conversationId);
    const reply = await this.redis.run('getCachedMessages', null, async () => {
      const args = [conversationId, ttlMs, budget, ...prefixes, last, leaseToken, this.options.leaseTtlMs];
      return (await runScript(this.redis.client, 'messageRead', keys, args)) as [number, string | number];
    });
    if (reply === null) return { messages: null, leased: false };
    if (reply[0] === 1) {
      this.counters.hits++;
      return { messages: JSON.parse(reply[1] as string) as CachedMessage[], leased: false };
    }
    this.counters.misses++;
    return { messages: null, leased: reply[1] === 1 };
  }

  private async fill(conversationId: string, leaseToken: string, args: ScriptArgument[]): Promise<boolean> {
    const result = await this.runOnConversation('cacheMessages', 'messageFill', conversationId, [leaseToken, ...args]);
    if (result === null || result === TOO_LARGE) return false;
    if (result === LEASE_LOST) {
      this.counters.fillsRefused++;
      return false;
    }
    this.counters.fills++;
    return true;
  }

  /** Runs a write script; null on a Redis failure, else the script's result, evictions counted. */
  private runOnConversation(
    operation: string,
    script: ScriptName,
    conversationId: string,
    extra: ScriptArgument[],
  ): Promise<number | null> {
    const { ttlMs, budget, keys, prefixes } = this.locate(conversationId);
    return this.redis.run(operation, null, async () => {
      const args = [conversationId, ttlMs, budget, ...prefixes, ...extra];
      const result = (await runScript(this.redis.client, script, keys, args)) as number;
      if (result > 0) this.counters.evictions += result;
      return result;
    });
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

  /** Validates messages and lays them out for a script: count, ids, then JSON texts. */
  private messageArguments(messages: unknown, argument: string): ScriptArgument[] {
    assertArray(messages, argument, this.options.maxMessagesPerCall);
    const ids: string[] = [];
    const texts: string[] = [];
    messages.forEach((message, i) => {
      assertJsonObject(message, `${argument}[${i}]`);
      const text = JSON.stringify(message);
      if (Buffer.byteLength(text) > this.options.maxMessageBytes) {
        throw new RedisCacheInputError(
          `${argument}[${i}]`,
          `must serialize to at most ${this.options.maxMessageBytes} bytes`,
        );
      }
      const id = message.id;
      ids.push(typeof id === 'string' || typeof id === 'number' ? JSON.stringify(id) : '');
      texts.push(text);
    });
    return [messages.length, ...ids, ...texts];
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
