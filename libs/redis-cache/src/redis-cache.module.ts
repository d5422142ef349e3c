import { ClusterModule, ClusterService, RedisModule, RedisService } from '@liaoliaots/nestjs-redis';
import { Logger, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { Cluster, type Redis } from 'ioredis';
import { logBucketSpreadWhenReady } from './bucket-spread';
import { ThrottledWarning } from './cache-logger';
import { CacheConnections, toClusterModuleOptions, toRedisModuleOptions } from './cache-connections';
import { ConnectionBreakers, type RedisCacheConnection } from './connection-breakers';
import { prepareClusterNodes } from './create-cache-client';
import { applyIoredisWorkarounds } from './ioredis-workarounds';
import { EmbeddingCacheService } from './embedding-cache.service';
import { RedisCacheHealthIndicator } from './health/redis-cache.health';
import { clientSecrets, maskSecrets } from './mask-secrets';
import { MessageCacheService } from './message-cache.service';
import { REDIS_CACHE_OPTIONS } from './redis-cache.constants';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableRedisCacheModule,
  OPTIONS_TYPE,
  RAW_OPTIONS_TOKEN,
} from './redis-cache.module-definition';
import type { RedisCacheModuleOptions, ResolvedRedisCacheOptions } from './redis-cache-options.interface';
import { resolveModuleOptions } from './resolve-options';

const logger = new Logger('RedisCache');

/** Holds the options providers, so both this module and the Redis module can inject them. */
@Module({})
class RedisCacheOptionsModule {}

/**
 * Prepares each client the module creates: logs its errors (rate-limited,
 * password masked), so a refused password or certificate shows here and not
 * only as fallbacks; readies a cluster's node connections; and, on a cluster
 * holding the messages, logs how the message buckets spread over its masters.
 */
function prepareClient(options: ResolvedRedisCacheOptions) {
  return (role: RedisCacheConnection, client: Redis | Cluster) => {
    const name = options.connections[role].namespace;
    const warning = new ThrottledWarning(logger);
    const secrets = clientSecrets(client);
    client.on('error', (error: Error) =>
      warning.warn(maskSecrets(`Redis connection "${name}" is down: ${error.message}`, secrets)),
    );
    if (!(client instanceof Cluster)) return applyIoredisWorkarounds(client);
    prepareClusterNodes(client);
    if (role === 'shared') logBucketSpreadWhenReady(client, options.messages.buckets, (line) => logger.log(line));
  };
}

const serviceProviders: Provider[] = [
  {
    provide: CacheConnections,
    inject: [REDIS_CACHE_OPTIONS, RedisService, ClusterService],
    useFactory: (options: ResolvedRedisCacheOptions, redis: RedisService, clusters: ClusterService) =>
      new CacheConnections(options.connections, redis, clusters),
  },
  {
    provide: ConnectionBreakers,
    inject: [CacheConnections, REDIS_CACHE_OPTIONS],
    useFactory: (clients: CacheConnections, options: ResolvedRedisCacheOptions) =>
      new ConnectionBreakers(clients, options),
  },
  {
    provide: EmbeddingCacheService,
    inject: [CacheConnections, REDIS_CACHE_OPTIONS, ConnectionBreakers],
    useFactory: (clients: CacheConnections, options: ResolvedRedisCacheOptions, breakers: ConnectionBreakers) =>
      new EmbeddingCacheService(clients.get('local'), options.embeddings, {
        deadlineMs: options.deadlineMs,
        logger,
        breaker: breakers.get('local'),
      }),
  },
  {
    provide: MessageCacheService,
    inject: [CacheConnections, REDIS_CACHE_OPTIONS, ConnectionBreakers],
    useFactory: (clients: CacheConnections, options: ResolvedRedisCacheOptions, breakers: ConnectionBreakers) =>
      new MessageCacheService(clients.get('shared'), options.messages, {
        deadlineMs: options.deadlineMs,
        logger,
        breaker: breakers.get('shared'),
      }),
  },
];

/**
 * `RedisCacheModule.forRoot(options)` / `forRootAsync({ imports, inject, useFactory | useClass | useExisting, isGlobal })`.
 * Provides `EmbeddingCacheService` (on the `local` connection), `MessageCacheService`
 * (on `shared`) and `RedisCacheHealthIndicator`, and exports `RedisService` and
 * `ClusterService`, whose named clients are the two connections: a Redis
 * Cluster's in `ClusterService`, a server's or a Sentinel master's in
 * `RedisService`. Invalid options stop the start.
 */
@Module({})
export class RedisCacheModule extends ConfigurableRedisCacheModule {
  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return RedisCacheModule.assemble(super.forRoot(options));
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    return RedisCacheModule.assemble(super.forRootAsync(options));
  }

  /** Moves the generated options providers into a module that the Redis module can import too. */
  private static assemble(generated: DynamicModule): DynamicModule {
    const optionsModule: DynamicModule = {
      module: RedisCacheOptionsModule,
      imports: generated.imports ?? [],
      providers: [
        ...(generated.providers ?? []),
        {
          provide: REDIS_CACHE_OPTIONS,
          inject: [RAW_OPTIONS_TOKEN],
          useFactory: (raw: RedisCacheModuleOptions) => resolveModuleOptions(raw),
        },
      ],
      exports: [REDIS_CACHE_OPTIONS],
    };
    const redisModule = RedisModule.forRootAsync(
      {
        imports: [optionsModule],
        inject: [REDIS_CACHE_OPTIONS],
        useFactory: ((options: ResolvedRedisCacheOptions) =>
          toRedisModuleOptions(options.connections, prepareClient(options))) as never,
      },
      false,
    );
    const clusterModule = ClusterModule.forRootAsync(
      {
        imports: [optionsModule],
        inject: [REDIS_CACHE_OPTIONS],
        useFactory: ((options: ResolvedRedisCacheOptions) =>
          toClusterModuleOptions(options.connections, prepareClient(options))) as never,
      },
      false,
    );
    return {
      module: RedisCacheModule,
      global: generated.global,
      imports: [optionsModule, redisModule, clusterModule, TerminusModule],
      providers: [...serviceProviders, RedisCacheHealthIndicator],
      exports: [
        EmbeddingCacheService,
        MessageCacheService,
        RedisCacheHealthIndicator,
        redisModule,
        clusterModule,
        optionsModule,
      ],
    };
  }
}
