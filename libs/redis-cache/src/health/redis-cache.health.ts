import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { CacheConnections } from '../cache-connections';
import { ConnectionBreakers, type RedisCacheConnection } from '../connection-breakers';
import { withDeadline } from '../deadline';
import { clientSecrets, maskSecrets } from '../mask-secrets';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.constants';
import type { ResolvedRedisCacheOptions } from '../redis-cache-options.interface';

export type { RedisCacheConnection } from '../connection-breakers';

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
    private readonly health: HealthIndicatorService,
    private readonly connections: CacheConnections,
    private readonly breakers: ConnectionBreakers,
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: ResolvedRedisCacheOptions,
  ) {}

  async isHealthy(connection: RedisCacheConnection, key = `redis-${connection}`): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    const client = this.connections.get(connection);
    const breaker = this.breakers.get(connection);
    if (client.status !== 'ready') return indicator.down({ state: client.status, breaker: breaker.state });
    const started = performance.now();
    try {
      await breaker.run(() => withDeadline(client.ping(), this.options.deadlineMs));
      const latencyMs = Math.round((performance.now() - started) * 100) / 100;
      return indicator.up({ state: client.status, breaker: breaker.state, latencyMs });
    } catch (error) {
      const message = maskSecrets(error instanceof Error ? error.message : String(error), clientSecrets(client));
      return indicator.down({ state: client.status, breaker: breaker.state, message });
    }
  }
}
