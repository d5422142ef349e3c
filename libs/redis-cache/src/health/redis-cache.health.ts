import { RedisService } from '@liaoliaots/nestjs-redis';
import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { withDeadline } from '../deadline';
import { REDIS_CACHE_OPTIONS } from '../redis-cache.constants';
import type { ResolvedRedisCacheOptions } from '../redis-cache-options.interface';

export type RedisCacheConnection = 'local' | 'shared';

/**
 * Terminus checks for the cache's two connections. Down when the connection is
 * not ready or a PING does not answer within the deadline; never throws, so
 * Terminus answers 503 rather than 500.
 */
@Injectable()
export class RedisCacheHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly redis: RedisService,
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: ResolvedRedisCacheOptions,
  ) {}

  async isHealthy(connection: RedisCacheConnection, key = `redis-${connection}`): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    const client = this.redis.getOrThrow(this.options.connections[connection].namespace);
    if (client.status !== 'ready') return indicator.down({ state: client.status });
    const started = performance.now();
    try {
      await withDeadline(client.ping(), this.options.deadlineMs);
      return indicator.up({ state: client.status, latencyMs: Math.round((performance.now() - started) * 100) / 100 });
    } catch (error) {
      return indicator.down({ state: client.status, message: error instanceof Error ? error.message : String(error) });
    }
  }
}
