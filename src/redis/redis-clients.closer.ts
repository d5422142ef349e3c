import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ClusterService, RedisService } from '@liaoliaots/nestjs-redis';
import { closeCacheClient } from '@wbot/redis-cache';
import { REDIS_CLIENTS } from './redis-clients.config';

/**
 * Closes the demo's Redis clients at shutdown with the library's
 * `closeCacheClient`: QUIT to a ready one, a plain disconnect to any other.
 * `@liaoliaots/nestjs-redis` would send QUIT to every client, which a fail-fast
 * client (no offline queue) refuses while it is not connected: it would go on
 * reconnecting after the app has closed.
 */
@Injectable()
export class RedisClientsCloser implements OnApplicationShutdown {
  constructor(
    private readonly redis: RedisService,
    private readonly clusters: ClusterService,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    const clients = REDIS_CLIENTS.flatMap((name) => this.redis.getOrNil(name) ?? this.clusters.getOrNil(name) ?? []);
    await Promise.all(clients.map(closeCacheClient));
  }
}
