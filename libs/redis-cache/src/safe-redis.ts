import type { Cluster, Redis } from 'ioredis';
import { ThrottledWarning, type CacheLogger } from './cache-logger';
import { withDeadline } from './deadline';

export interface SafeRedisOptions {
  /** Names the connection in log lines. */
  readonly connection: string;
  /** The most a call may take before it gives its fallback. */
  readonly deadlineMs: number;
  readonly logger: CacheLogger;
  /** Called once per call that gave its fallback. */
  readonly onFallback?: (operation: string) => void;
}

/**
 * Runs Redis calls so that a Redis failure never reaches the caller: a call on a
 * connection that is not ready gives its fallback at once, without touching the
 * network; a failing call gives it when it fails; a slow one when the deadline
 * passes. Argument errors are thrown before a call gets here.
 */
export class SafeRedis {
  private readonly warning: ThrottledWarning;

  constructor(
    readonly client: Redis | Cluster,
    private readonly options: SafeRedisOptions,
  ) {
    this.warning = new ThrottledWarning(options.logger);
  }

  async run<T>(operation: string, fallback: T, call: () => Promise<T>): Promise<T> {
    if (this.client.status !== 'ready') {
      return this.fallBack(operation, fallback, `connection is ${this.client.status}`);
    }
    try {
      return await withDeadline(call(), this.options.deadlineMs);
    } catch (error) {
      return this.fallBack(operation, fallback, error instanceof Error ? error.message : String(error));
    }
  }

  private fallBack<T>(operation: string, fallback: T, reason: string): T {
    this.options.onFallback?.(operation);
    this.warning.warn(`Redis connection "${this.options.connection}" failed during ${operation}: ${reason}`);
    return fallback;
  }
}
