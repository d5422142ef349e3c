import { RedisModule, RedisService, type RedisModuleOptions } from '@liaoliaots/nestjs-redis';
import { Logger, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import type { Redis } from 'ioredis';
import { ThrottledWarning } from './cache-logger';
import { EmbeddingCacheService } from './embedding-cache.service';
import { RedisCacheHealthIndicator } from './health/redis-cache.health';
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

function logErrors(connection: string) {
  return (client: Redis) => {
    const warning = new ThrottledWarning(logger);
    client.on('error', (error: Error) => warning.warn(`Redis connection "${connection}": ${error.message}`));
  };
}

function toRedisModuleOptions({ connections }: ResolvedRedisCacheOptions): RedisModuleOptions {
  return {
    errorLog: false,
    config: [
      { ...connections.local, onClientCreated: logErrors(connections.local.namespace) },
      { ...connections.shared, onClientCreated: logErrors(connections.shared.namespace) },
    ],
  };
}

const serviceProviders: Provider[] = [
  {
    provide: EmbeddingCacheService,
    inject: [RedisService, REDIS_CACHE_OPTIONS],
    useFactory: (redis: RedisService, options: ResolvedRedisCacheOptions) =>
      new EmbeddingCacheService(redis.getOrThrow(options.connections.local.namespace), options.embeddings, {
        deadlineMs: options.deadlineMs,
        logger,
      }),
  },
  {
    provide: MessageCacheService,
    inject: [RedisService, REDIS_CACHE_OPTIONS],
    useFactory: (redis: RedisService, options: ResolvedRedisCacheOptions) =>
      new MessageCacheService(redis.getOrThrow(options.connections.shared.namespace), options.messages, {
        deadlineMs: options.deadlineMs,
        logger,
      }),
  },
];

/**
 * `RedisCacheModule.forRoot(options)` / `forRootAsync({ imports, inject, useFactory | useClass | useExisting, isGlobal })`.
 * Provides `EmbeddingCacheService` (on the `local` connection), `MessageCacheService`
 * (on `shared`) and `RedisCacheHealthIndicator`, and exports `RedisService`, whose
 * named clients are the two connections. Invalid options stop the start.
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
      { imports: [optionsModule], inject: [REDIS_CACHE_OPTIONS], useFactory: toRedisModuleOptions as never },
      false,
    );
    return {
      module: RedisCacheModule,
      global: generated.global,
      imports: [optionsModule, redisModule, TerminusModule],
      providers: [...serviceProviders, RedisCacheHealthIndicator],
      exports: [EmbeddingCacheService, MessageCacheService, RedisCacheHealthIndicator, redisModule, optionsModule],
    };
  }
}
