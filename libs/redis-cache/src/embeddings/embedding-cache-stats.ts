/**
 * Counters a cache keeps since it was created; read them with `stats()`.
 *
 * `fallbacks` counts what callers got; the other counters count what Redis did,
 * from the scripts' replies, but `nearHits`, which counts what the near cache did. A write whose reply comes after its deadline gave
 * its caller `false` (a fallback) and, having run, still counts as a write, with
 * the evictions it reports: both are true, so writes + fallbacks may exceed calls.
 */
export interface EmbeddingCacheStats {
  /** Vectors served from the cache. */
  hits: number;
  /** Texts looked up and not found. */
  misses: number;
  /** Vectors stored. */
  writes: number;
  /** Entries the per-user limit evicted, least recently used first. */
  evictions: number;
  /** `clearUser` calls that went through. */
  clears: number;
  /** Calls that gave their fallback (`null`, `false`) because Redis failed or was down. */
  fallbacks: number;
  /** Hits served read-only, without refreshing the LRU and the TTL, because Redis refused writes (OOM). */
  readOnlyHits: number;
  /** Of the hits, those the near cache served from memory, with no Redis call (0 unless `nearCache` is on). */
  nearHits: number;
}
