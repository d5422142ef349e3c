import {
  Logger,
  Module,
  type ConfigurableModuleAsyncOptions,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { ModuleConnections } from './module-connections';
import { ModuleBreakers } from './module-breakers';
import { EmbeddingCacheService } from '../embeddings/embedding-cache.service';
import { ModuleHealthIndicator, RedisCacheHealthIndicator } from '../health/redis-cache.health';
import { MessageCacheService } from '../messages/message-cache.service';
import { ResponseCacheService } from '../responses/response-cache.service';
import { REDIS_CACHE_CONNECTIONS, REDIS_CACHE_OPTIONS, getRedisCacheConnectionToken } from './redis-cache.tokens';
import { ConfigurableRedisCacheModule, RAW_OPTIONS_TOKEN } from './redis-cache.module-definition';
import type { RedisCacheModuleOptions, ResolvedRedisCacheOptions } from '../options/redis-cache-options';
import { resolveModuleOptions } from '../options/resolve-options';

const logger = new Logger('RedisCache');

/** Closes what the response cache opened itself, at shutdown; the module's connections close on their own. */
class ResponseCacheShutdown implements OnApplicationShutdown {
  constructor(private readonly responses: ResponseCacheService) {}

  onApplicationShutdown(): Promise<void> {
    return this.responses.close();
  }
}

const connectionProviders: Provider[] = REDIS_CACHE_CONNECTIONS.map((connection) => ({
  provide: getRedisCacheConnectionToken(connection),
  inject: [ModuleConnections],
  useFactory: (connections: ModuleConnections) => connections.get(connection),
}));

const serviceProviders: Provider[] = [
  {
    provide: REDIS_CACHE_OPTIONS,
    inject: [RAW_OPTIONS_TOKEN],
    useFactory: (raw: RedisCacheModuleOptions) => resolveModuleOptions(raw),
  },
  {
    provide: ModuleConnections,
    inject: [REDIS_CACHE_OPTIONS],
    useFactory: (options: ResolvedRedisCacheOptions) => new ModuleConnections(options),
  },
  {
    provide: ModuleBreakers,
    inject: [ModuleConnections, REDIS_CACHE_OPTIONS],
    useFactory: (clients: ModuleConnections, options: ResolvedRedisCacheOptions) =>
      new ModuleBreakers(clients, options),
  },
  {
    provide: EmbeddingCacheService,
    inject: [ModuleConnections, REDIS_CACHE_OPTIONS, ModuleBreakers],
    useFactory: (clients: ModuleConnections, options: ResolvedRedisCacheOptions, breakers: ModuleBreakers) =>
      new EmbeddingCacheService(clients.get('local'), options.embeddings, {
        deadlineMs: options.deadlineMs,
        logger,
        breaker: breakers.get('local'),
      }),
  },
  {
    provide: MessageCacheService,
    inject: [ModuleConnections, REDIS_CACHE_OPTIONS, ModuleBreakers],
    useFactory: (clients: ModuleConnections, options: ResolvedRedisCacheOptions, breakers: ModuleBreakers) =>
      new MessageCacheService(clients.get('shared'), options.messages, {
        deadlineMs: options.deadlineMs,
        logger,
        breaker: breakers.get('shared'),
      }),
  },
  {
    provide: ResponseCacheService,
    inject: [ModuleConnections, REDIS_CACHE_OPTIONS, ModuleBreakers],
    useFactory: (clients: ModuleConnections, options: ResolvedRedisCacheOptions, breakers: ModuleBreakers) => {
      const { connection } = options.responses;
      return new ResponseCacheService(clients.get(connection), options.responses, {
        deadlineMs: options.deadlineMs,
        logger,
        breaker: breakers.get(connection),
      });
    },
  },
  {
    // the connection the response cache opened for its followers' blocking reads, if it did
    provide: ResponseCacheShutdown,
    inject: [ResponseCacheService],
    useFactory: (responses: ResponseCacheService) => new ResponseCacheShutdown(responses),
  },
  { provide: RedisCacheHealthIndicator, useClass: ModuleHealthIndicator },
  ...connectionProviders,
];

/** What `RedisCacheModule.forRoot` takes: the module's options, and whether to register it globally. */
export type RedisCacheModuleRootOptions = RedisCacheModuleOptions & {
  /** Registers the module globally, so that every module can inject its services. Default `false`. */
  isGlobal?: boolean;
};

/**
 * What `RedisCacheModule.forRootAsync` takes: Nest's usual async options
 * (`imports`, `inject` and `useFactory`, or `useClass` / `useExisting` with a
 * `create()` method), which give the module's options, and whether to register
 * it globally.
 */
export interface RedisCacheModuleAsyncOptions extends ConfigurableModuleAsyncOptions<RedisCacheModuleOptions> {
  /** Registers the module globally, so that every module can inject its services. Default `false`. */
  isGlobal?: boolean;
}

/**
 * The Nest module: `RedisCacheModule.forRoot(options)` or
 * `RedisCacheModule.forRootAsync({ imports, inject, useFactory })`.
 *
 * Provides `EmbeddingCacheService` (on the `local` connection), `MessageCacheService`
 * (on `shared`), `ResponseCacheService` (on `local`, unless `responses.connection`
 * says `shared`), `RedisCacheHealthIndicator`, and each connection's ioredis client
 * under `getRedisCacheConnectionToken('local' | 'shared')`. It creates and closes
 * the clients itself, or uses the app's own (`{ client }`). When `app.init()`
 * resolves, both connections are ready, or the start waited `readyTimeoutMs` and
 * logged that it goes on without them. Invalid options stop the start.
 */
@Module({})
export class RedisCacheModule {
  /** The module, with options known at import time. */
  static forRoot(options: RedisCacheModuleRootOptions): DynamicModule {
    return RedisCacheModule.assemble(ConfigurableRedisCacheModule.forRoot(options));
  }

  /** The module, with options from a factory (for example one that reads `ConfigService`). */
  static forRootAsync(options: RedisCacheModuleAsyncOptions): DynamicModule {
    return RedisCacheModule.assemble(ConfigurableRedisCacheModule.forRootAsync(options));
  }

  private static assemble(generated: DynamicModule): DynamicModule {
    return {
      ...generated,
      module: RedisCacheModule,
      providers: [...(generated.providers ?? []), ...serviceProviders],
      exports: [
        EmbeddingCacheService,
        MessageCacheService,
        ResponseCacheService,
        RedisCacheHealthIndicator,
        ...connectionProviders.map((provider) => (provider as { provide: string }).provide),
      ],
    };
  }
}
