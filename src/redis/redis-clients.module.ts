import { Global, Module } from '@nestjs/common';
import { ClusterModule, RedisModule } from '@liaoliaots/nestjs-redis';
import { environment, type Environment } from '../config/environment';
import { RedisClientsCloser } from './redis-clients.closer';
import { clusterModuleOptions, redisModuleOptions } from './redis-clients.config';

/**
 * The demo's named Redis clients, `local` and `shared`, managed by
 * `@liaoliaots/nestjs-redis` (its maintained fork, `@nestjs-labs/nestjs-ioredis`):
 * `RedisService` holds those that are a server or a Sentinel master,
 * `ClusterService` those that are a Redis Cluster. The cache runs on them.
 */
@Global()
@Module({
  imports: [
    RedisModule.forRootAsync(
      { inject: [environment.KEY], useFactory: (env: unknown) => redisModuleOptions(env as Environment) },
      true,
    ),
    ClusterModule.forRootAsync(
      { inject: [environment.KEY], useFactory: (env: unknown) => clusterModuleOptions(env as Environment) },
      true,
    ),
  ],
  providers: [RedisClientsCloser],
})
export class RedisClientsModule {}
