/**
 * Counters a cache keeps since it was created; read them with `stats()`.
 *
 * `fallbacks` counts what callers got; the other counters count what Redis did,
 * from the scripts' replies. A write whose reply comes after its deadline gave
 * its caller `false` (a fallback) and, having run, still counts as a write, with
 * the evictions it reports: both are true, so writes + fallbacks may exceed calls.
 */
export interface MessageCacheStats {
  /** Reads served from the cache. */
  hits: number;
  /** Reads that found no conversation, or one not safe to serve yet (a write to it failed on Redis). */
  misses: number;
  /** Appends that went through (`appendMessages` returned true). */
  appends: number;
  /** Conversations cached whole, by `cacheMessages` or by a `getOrLoadMessages` miss. */
  fills: number;
  /** Fills refused because a write came in while their loader ran. */
  fillsRefused: number;
  /** Conversations evicted to make room in the budget, least recently used first. */
  evictions: number;
  /**
   * Conversations the scripts dropped: one that alone would exceed the budget, one whose id set was lost
   * (an append could double a message), and lists that were not whole conversations; and those a read found
   * damaged (an element that is not a JSON object, written by another program) and dropped.
   */
  dropped: number;
  /** Conversations removed by `clearConversation`, and by the settling after writes that failed on Redis. */
  clears: number;
  /** Calls that gave their fallback (`null`, `false`) because Redis failed or was down. */
  fallbacks: number;
  /** Hits served read-only, without refreshing the LRU and the TTL, because Redis refused writes (OOM). */
  readOnlyHits: number;
}
