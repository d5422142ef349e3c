import type { Cluster, Redis } from 'ioredis';
import { ThrottledWarning, type CacheLogger } from './cache-logger';
import type { ConnectionBreaker, ConnectionState } from './connection-breaker';
import { withDeadline } from './deadline';
import { clientSecrets, maskSecrets } from './mask-secrets';

export interface SafeRedisOptions {
  /** Names the connection in log lines. */
  readonly connection: string;
  /** The most a call may take before it gives its fallback. */
  readonly deadlineMs: number;
  readonly logger: CacheLogger;
  /** The connection's circuit breaker, if it has one; shared with the other caches on the client. */
  readonly breaker?: ConnectionBreaker;
  /** Called once per call that gave its fallback. */
  readonly onFallback?: (operation: string) => void;
}

/**
 * Runs Redis calls so that a Redis failure never reaches the caller: a call on a
 * connection that is not ready, or whose breaker is open, gives its fallback at
 * once, without touching the network; a failing call gives it when it fails; a
 * slow one when the deadline passes. Argument errors are thrown before a call
 * gets here. Log lines never show the connection's password.
 */
export class SafeRedis {
  private readonly warning: ThrottledWarning;
  private readonly secrets: readonly string[];

  constructor(
    readonly client: Redis | Cluster,
    private readonly options: SafeRedisOptions,
  ) {
    this.warning = new ThrottledWarning(options.logger);
    this.secrets = clientSecrets(client);
  }

  async run<T>(operation: string, fallback: T, call: () => Promise<T>): Promise<T> {
    // a connection that is not ready says so itself: no breaker, no failure to count
    if (this.client.status !== 'ready') {
      return this.fallBack(operation, fallback, `connection is ${this.client.status}`);
    }
    const bounded = () => withDeadline(call(), this.options.deadlineMs);
    try {
      return await (this.options.breaker ? this.options.breaker.run(bounded) : bounded());
    } catch (error) {
      return this.fallBack(operation, fallback, error instanceof Error ? error.message : String(error));
    }
  }

  connectionState(): ConnectionState {
    return {
      connection: this.options.connection,
      status: this.client.status,
      breaker: this.options.breaker?.state ?? 'none',
    };
  }

  private fallBack<T>(operation: string, fallback: T, reason: string): T {
    this.options.onFallback?.(operation);
    this.warning.warn(
      maskSecrets(`Redis connection "${this.options.connection}" failed during ${operation}: ${reason}`, this.secrets),
    );
    return fallback;
  }
}
