import { BaseCache, deserializeStoredGeneration, serializeGeneration } from '@langchain/core/caches';
import type { StoredGeneration } from '@langchain/core/messages';
import type { Generation } from '@langchain/core/outputs';
import { RedisCacheInputError } from '../errors';
import { assertTenant, writeTtlMs } from '../options/input';
import type { CacheWriteOptions } from '../options/redis-cache-options';
import { canonicalDigest } from '../responses/canonical-digest';
import { ResponseCacheService } from '../responses/response-cache.service';
import type { ResponseKey } from '../responses/response-call';

/** What `RedisCacheLLMCache` is built from. */
export interface RedisCacheLLMCacheOptions {
  /** The response cache, e.g. the one the Nest module provides. */
  cache: ResponseCacheService;
  /** Whose responses the model's calls read and fill: one tenant per cache (give each tenant's model its own). */
  tenant: string;
  /** The TTL of what it stores, in seconds, instead of the cache's `ttlSeconds`. */
  ttlSeconds?: number;
}

/** The version of the keys' canonical form: a change to what goes into it moves every key. */
const KEY_VERSION = 'wbot:langchain:v1';

/**
 * The placeholders LangChain's text form of a prompt (`getBufferString`) puts for content that is not text:
 * `[image]`, `[audio]`, `[video]`, `[file]`, `[text-plain file]`, and `[<type>]` for any other type of block.
 */
const NON_TEXT_PLACEHOLDER = /\[[A-Za-z][\w-]*(?: file)?\]/;

/**
 * A LangChain.js `BaseCache` on the response cache, for the `cache` of any chat model or LLM:
 * `new ChatOpenAI({ cache: new RedisCacheLLMCache({ cache, tenant }) })`. A call whose prompt and call options
 * (model, settings, stop words, tools: LangChain's `llmKey`) were answered before, for the tenant, is answered
 * from Redis without reaching the model; exact, per tenant, within the cache's LRU and TTL. Generations are stored as LangChain stores them
 * (`serializeGeneration`), messages as their stored form. With Redis down, every call reaches the model.
 *
 * A chat model hands a `BaseCache` its prompt's text form, in which every image becomes the same `[image]`
 * (langchainjs #10092), every file `[file]`, and so on, so two prompts that differ only in an image look the same
 * to any `BaseCache`. This one never answers one such prompt from another: a prompt whose text form holds such a
 * placeholder (even one that was typed as text) bypasses the cache, stores nothing, and counts in the response
 * cache's `stats().bypasses`. Seeing the real content would take a wrapper around the model rather than a cache,
 * or a patch of the chat model's internals; a bypass is exact with LangChain as it is. The text form also leaves
 * out a message's reasoning, tool-call and provider-specific blocks, and its ids: prompts that differ only there
 * share a key, as they do in every LangChain cache.
 */
export class RedisCacheLLMCache extends BaseCache<Generation[]> {
  private readonly cache: ResponseCacheService;
  private readonly tenant: string;
  private readonly writeOptions: CacheWriteOptions;

  /** @throws RedisCacheInputError naming `cache`, `tenant` or `options.ttlSeconds` when one is not as described. */
  constructor(options: RedisCacheLLMCacheOptions) {
    super();
    const { cache, tenant, ttlSeconds } = (options ?? {}) as Partial<RedisCacheLLMCacheOptions>;
    if (!(cache instanceof ResponseCacheService))
      throw new RedisCacheInputError('cache', 'must be a ResponseCacheService');
    assertTenant(tenant);
    writeTtlMs({ ttlSeconds }, 0);
    this.cache = cache;
    this.tenant = tenant;
    this.writeOptions = ttlSeconds === undefined ? {} : { ttlSeconds };
  }

  /** The stored generations of the prompt and call options, or `null` on a miss, a bypass or a Redis failure. */
  override async lookup(prompt: string, llmKey: string): Promise<Generation[] | null> {
    const stored = await this.cache.getCachedResponse(this.tenant, this.keyOf(prompt, llmKey));
    if (!Array.isArray(stored)) return null;
    return (stored as StoredGeneration[]).map((generation) => deserializeStoredGeneration(generation));
  }

  /** Stores the generations of the prompt and call options; nothing for a prompt that bypasses the cache. */
  override async update(prompt: string, llmKey: string, value: Generation[]): Promise<void> {
    const key = this.keyOf(prompt, llmKey);
    if (key === null) return;
    await this.cache.cacheResponse(this.tenant, key, value.map(serializeGeneration), this.writeOptions);
  }

  /** The digest of the prompt and the call options; null for a prompt with content that is not text. */
  private keyOf(prompt: string, llmKey: string): ResponseKey {
    if (NON_TEXT_PLACEHOLDER.test(prompt)) return null;
    return canonicalDigest([KEY_VERSION, llmKey, prompt])!;
  }
}
