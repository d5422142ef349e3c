import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { RedisCacheModule } from '@wbot/redis-cache';
import { ApiKeyGuard } from './auth/api-key.guard';
import { environment, type Environment } from './config/environment';
import { redisCacheOptions } from './config/redis-cache.config';
import { ConversationsModule } from './conversations/conversations.module';
import { DatabaseModule } from './database/database.module';
import { EmbeddingsModule } from './embeddings/embeddings.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, load: [environment] }),
    LoggingModule,
    RedisCacheModule.forRootAsync({
      isGlobal: true,
      inject: [environment.KEY],
      useFactory: (env: Environment) => redisCacheOptions(env),
    }),
    DatabaseModule,
    MetricsModule,
    HealthModule,
    ConversationsModule,
    EmbeddingsModule,
  ],
  providers: [{ provide: APP_GUARD, useClass: ApiKeyGuard }],
})
export class AppModule {}
