import { ClusterService, RedisService } from '@liaoliaots/nestjs-redis';
import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { RedisCacheModule } from '@wbot/redis-cache';
import { ApiKeyGuard } from './auth/api-key.guard';
import { ChatModule } from './chat/chat.module';
import { environment, type Environment } from './config/environment';
import { redisCacheOptions } from './config/redis-cache.config';
import { ConversationsModule } from './conversations/conversations.module';
import { DatabaseModule } from './database/database.module';
import { EmbeddingsModule } from './embeddings/embeddings.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { RedisClientsModule } from './redis/redis-clients.module';
import { TracingShutdown } from './tracing/tracing-shutdown';

@Module({
  imports: [
    // ENV_FILE names another file than .env (scripts/demo.js reads the same one)
    ConfigModule.forRoot({ isGlobal: true, load: [environment], envFilePath: process.env.ENV_FILE ?? '.env' }),
    LoggingModule,
    RedisClientsModule,
    // the cache runs on the demo's named clients; without them it would create its own from `connections` options
    RedisCacheModule.forRootAsync({
      isGlobal: true,
      inject: [environment.KEY, RedisService, ClusterService],
      useFactory: (env: Environment, redis: RedisService, clusters: ClusterService) =>
        redisCacheOptions(env, {
          local: redis.getOrNil('local') ?? clusters.getOrThrow('local'),
          shared: redis.getOrNil('shared') ?? clusters.getOrThrow('shared'),
        }),
    }),
    DatabaseModule,
    MetricsModule,
    HealthModule,
    ConversationsModule,
    EmbeddingsModule,
    ChatModule,
  ],
  providers: [{ provide: APP_GUARD, useClass: ApiKeyGuard }, TracingShutdown],
})
export class AppModule {}
