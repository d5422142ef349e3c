import { Inject, Injectable } from '@nestjs/common';
import { CacheConnections } from '../cache-connections';
import { ConnectionBreakers } from '../connection-breakers';
import { withDeadline } from '../deadline';
import { clientSecrets, maskSecrets } from '../mask-secrets';
import { REDIS_CACHE_OPTIONS, type RedisCacheConnection } from '../redis-cache.constants';
import type { ResolvedRedisCacheOptions } from '../redis-cache-options.interface';

/** One connection's state, in the shape `@nestjs/terminus` expects of a health indicator. */
export type RedisCacheHealthResult = Record<string, { status: 'up' | 'down' } & Record<string, unknown>>;

/**
 * The result `HealthIndicatorService.check(key).up(data)` / `.down(data)` of
 * `@nestjs/terminus` 11 and 12 builds, made here so that the library does not
 * load Terminus: an app without it can still start, and one with either major
 * composes this check into its `HealthCheckService` as any other.
 */
function indicator(key: string) {
  return {
    up: (data: Record<string, unknown>): RedisCacheHealthResult => ({ [key]: { ...data, status: 'up' } }),
    down: (data: Record<string, unknown>): RedisCacheHealthResult => ({ [key]: { ...data, status: 'down' } }),
  };
}

/**
 * Terminus checks for the cache's two connections. Down when the connection is
 * not ready, its circuit breaker is open, or a PING does not answer within the
 * deadline. The PING goes through the breaker, so a readiness probe may be the
 * half-open probe that closes it. Never throws, so Terminus answers 503 rather
 * than 500, and never shows the connection's password.
 */
@Injectable()
export class RedisCacheHealthIndicator {
  constructor(
    private readonly connections: CacheConnections,
    private readonly breakers: ConnectionBreakers,
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: ResolvedRedisCacheOptions,
  ) {}

  async isHealthy(connection: RedisCacheConnection, key = `redis-${connection}`): Promise<RedisCacheHealthResult> {
    const check = indicator(key);
    const client = this.connections.get(connection);
    const breaker = this.breakers.get(connection);
    if (client.status !== 'ready') return check.down({ state: client.status, breaker: breaker.state });
    const started = performance.now();
    try {
      await breaker.run(() => withDeadline(client.ping(), this.options.deadlineMs));
      const latencyMs = Math.round((performance.now() - started) * 100) / 100;
      return check.up({ state: client.status, breaker: breaker.state, latencyMs });
    } catch (error) {
      const message = maskSecrets(error instanceof Error ? error.message : String(error), clientSecrets(client));
      return check.down({ state: client.status, breaker: breaker.state, message });
    }
  }
}
