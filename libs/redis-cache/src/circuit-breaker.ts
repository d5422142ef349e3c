import type { Cluster, Redis } from 'ioredis';
import CircuitBreaker from 'opossum';
import type { BreakerState, ConnectionBreaker } from './connection-breaker';
import type { ResolvedCircuitBreakerOptions } from './redis-cache-options.interface';

type Call = () => Promise<unknown>;

/** A reply from the server, even an error reply, proves the connection answers fast. */
function isServerReply(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

/**
 * A connection's breaker on opossum. It opens after `consecutiveFailures` failed
 * calls in a row, or when failures pass a share of the calls in a short rolling
 * window, then after `resetTimeoutMs` lets a single probe through (opossum's
 * half-open), whose outcome closes or reopens it.
 */
export class OpossumConnectionBreaker implements ConnectionBreaker {
  private readonly breaker: CircuitBreaker<[Call], unknown>;
  private failuresInARow = 0;

  constructor(name: string, options: ResolvedCircuitBreakerOptions) {
    this.breaker = new CircuitBreaker((call: Call) => call(), {
      name,
      // the caller's deadline bounds every call; a second timer per call would only cost
      timeout: false,
      errorThresholdPercentage: options.errorThresholdPercentage,
      volumeThreshold: options.volumeThreshold,
      resetTimeout: options.resetTimeoutMs,
      rollingCountTimeout: options.windowMs,
      rollingCountBuckets: 10,
      // latency percentiles are sorted on every failure and snapshots add a timer: neither is read here
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      errorFilter: isServerReply,
    });
    // opossum only counts a share of the window, and a window full of earlier
    // successes would keep it closed for a whole window while every call now waits
    // for its timeout
    this.breaker.on('success', () => (this.failuresInARow = 0));
    this.breaker.on('close', () => (this.failuresInARow = 0));
    this.breaker.on('failure', () => {
      if (++this.failuresInARow >= options.consecutiveFailures && this.breaker.closed) this.breaker.open();
    });
  }

  get state(): BreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half-open';
    return 'closed';
  }

  run<T>(call: () => Promise<T>): Promise<T> {
    return this.breaker.fire(call) as Promise<T>;
  }

  /**
   * Closes the breaker each time `client` becomes ready: a fresh connection has
   * just answered ioredis's ready check, which makes it the probe, so calls need
   * not wait out `resetTimeoutMs` after a reconnect.
   */
  follow(client: Redis | Cluster): void {
    client.on('ready', () => {
      if (!this.breaker.isShutdown) this.breaker.close();
    });
  }

  /** Stops the breaker's timers; later calls reject at once. */
  shutdown(): void {
    this.breaker.shutdown();
  }
}
