/**
 * `@wbot/redis-cache/langchain`: LangChain.js adapters on the caches. `CachedEmbeddings` is an
 * `Embeddings` that caches `embedDocuments` and `embedQuery` per user; `RedisCacheChatMessageHistory`
 * is a chat message history on the write-through message cache; `RedisCacheLLMCache` is a model `cache`
 * on the response cache. It needs `@langchain/core` 1.x, an optional peer dependency that only this entry
 * point loads.
 *
 * @packageDocumentation
 */

export { CachedEmbeddings } from './cached-embeddings';
export type { CachedEmbeddingsOptions } from './cached-embeddings';
export { RedisCacheChatMessageHistory } from './redis-cache-chat-message-history';
export type {
  ChatHistoryLoader,
  ChatHistoryPersister,
  RedisCacheChatMessageHistoryOptions,
} from './redis-cache-chat-message-history';
export { RedisCacheLLMCache } from './redis-cache-llm-cache';
export type { RedisCacheLLMCacheOptions } from './redis-cache-llm-cache';

// The caches the adapters take, as types (the app creates them from the main entry or `/client`), and what their
// signatures name
export type {
  ComputeEmbeddings,
  EmbeddingCacheService,
  EmbeddingEntry,
  EmbeddingReadOptions,
} from '../embeddings/embedding-cache.service';
export type { EmbeddingCacheStats } from '../embeddings/embedding-cache-stats';
export type { NearCacheUsage } from '../embeddings/near-cache/near-cache';
export type {
  CachedMessage,
  MessageCacheClient,
  MessageLoader,
  ReadMessagesOptions,
} from '../messages/message-cache.client';
export type { MessageCacheStats } from '../messages/message-cache-stats';
export type { ResponseCacheService } from '../responses/response-cache.service';
export type { ResponseCacheStats } from '../responses/response-cache-stats';
export type * from '../responses/response-call';
export type { BreakerState, ConnectionBreaker, ConnectionState } from '../resilience/breaker';
export type {
  CacheLogger,
  CacheRuntimeOptions,
  CacheWriteOptions,
  EmbeddingCacheOptions,
  MessageCacheOptions,
  NearCacheOptions,
  ResolvedEmbeddingOptions,
  ResolvedMessageOptions,
  ResolvedResponseOptions,
  ResponseCacheOptions,
  ResolvedNearCacheOptions,
} from '../options/redis-cache-options';
export type { Precision } from '../keys';
