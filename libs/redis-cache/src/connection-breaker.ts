/** What a connection's circuit breaker reports: calls pass when closed, one probe passes when half-open. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * The circuit breaker of one Redis connection, shared by every cache on it. The
 * caches only see this interface, so the framework-free client takes a breaker
 * without depending on the library that implements one.
 */
export interface ConnectionBreaker {
  readonly state: BreakerState;
  /**
   * Runs `call`, which must settle by itself (the caller bounds it by a deadline).
   * While open, and in half-open while the one probe is under way, rejects at
   * once without running it.
   */
  run<T>(call: () => Promise<T>): Promise<T>;
}

/** How a connection looks to the metrics: its name, its ioredis status and its breaker's state. */
export interface ConnectionState {
  connection: string;
  status: string;
  breaker: BreakerState | 'none';
}
