import type { EmbeddingCacheStats, MessageCacheStats } from '@wbot/redis-cache';

/** Every embedding counter at zero but the ones given: tests assert whole counter sets, exactly. */
export function embeddingStats(counted: Partial<EmbeddingCacheStats>): EmbeddingCacheStats {
  // prettier-ignore
  return { hits: 0, misses: 0, writes: 0, evictions: 0, clears: 0, fallbacks: 0, readOnlyHits: 0, nearHits: 0, ...counted };
}

/** Every message counter at zero but the ones given. */
export function messageStats(counted: Partial<MessageCacheStats>): MessageCacheStats {
  return {
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
    ...counted,
  };
}
