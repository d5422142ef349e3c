/**
 * Counters a response cache keeps since it was created; read them with `stats()`.
 *
 * Every call counts once in `hits`, `misses`, `coalesced` or `bypasses`, by how it was answered; a follower that
 * called the model after all counts in `takeovers` besides. `fallbacks` counts the Redis calls that gave their
 * fallback, the other counters what Redis did.
 */
export interface ResponseCacheStats {
  /** Calls answered from a stored response. */
  hits: number;
  /** Calls that asked the model themselves: no stored response, and no call of the same key in flight to follow. */
  misses: number;
  /** Calls answered by the model call of another call of the same key, in this process or another. */
  coalesced: number;
  /** Followers that asked the model themselves, because their leader failed, died, or took too long. */
  takeovers: number;
  /** Calls that went to the model without the cache: no key could be made for them. */
  bypasses: number;
  /** Responses stored. */
  writes: number;
  /** Responses not stored because they were larger than `maxEntryBytes`. */
  oversized: number;
  /** Responses not stored because `clearTenant` came while their call was in flight. */
  fenced: number;
  /** Entries the per-tenant limit evicted, least recently used first. */
  evictions: number;
  /** `clearTenant` calls that went through. */
  clears: number;
  /** Redis calls that gave their fallback because Redis failed or was down. */
  fallbacks: number;
}
