/** What a connection's circuit breaker reports: calls pass when closed, one probe passes when half-open. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * The circuit breaker of one Redis connection, shared by every cache on it. The
 * caches only see this interface, so the framework-free client takes a breaker
 * without depending on the library that implements one.
 *
 * A breaker keeps one state per scope: on a Redis Cluster, a scope is one
 * master (`host:port`), so a dead master opens the breaker for its own slots
 * and no others. A single node or Sentinel connection has the one scope `''`.
 */
export interface ConnectionBreaker {
  /**
   * The connection's state as a whole: `open` only when every scope that has
   * run a call is open (no call can go through), `half-open` when none is
   * closed and one is probing, else `closed`. `scopes()` tells which master.
   */
  readonly state: BreakerState;
  /**
   * Runs `call`, which must settle by itself (the caller bounds it by a deadline).
   * While `scope` is open, and in half-open while its one probe is under way,
   * rejects at once without running it.
   */
  run<T>(call: () => Promise<T>, scope?: string): Promise<T>;
  /** The state of one scope; a scope that has run no call is closed. */
  stateOf(scope: string): BreakerState;
  /** Every scope that has run a call, with its state. */
  scopes(): Record<string, BreakerState>;
}

/** How a connection looks to the metrics: its name, its ioredis status and its breaker's state. */
export interface ConnectionState {
  /** The connection's name in log lines (`local`, `shared` or its `namespace`). */
  connection: string;
  /** The ioredis client's status: `ready`, `connecting`, `reconnecting`, `end`, … */
  status: string;
  /** The breaker's state as a whole, or `none` when the cache runs without one. */
  breaker: BreakerState | 'none';
  /** On a cluster, each master's breaker (`host:port`), once a call has gone to it. */
  masters?: Record<string, BreakerState>;
}
