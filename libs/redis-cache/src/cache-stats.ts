/** Counters a cache keeps since it was created; read them with `stats()`. */
export interface EmbeddingCacheStats {
  hits: number;
  misses: number;
  writes: number;
  evictions: number;
  fallbacks: number;
}

export interface MessageCacheStats {
  hits: number;
  misses: number;
  appends: number;
  fills: number;
  fillsRefused: number;
  evictions: number;
  fallbacks: number;
}
