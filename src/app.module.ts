import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { RedisCacheModule } from '@wbot/redis-cache';
import { environment, type Environment } from './config/environment';
import { redisCacheOptions } from './config/redis-cache.config';
import { HealthModule } from './health/health.module';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true, load: [environment] }),
    RedisCacheModule.forRootAsync({
      isGlobal: true,
      inject: [environment.KEY],
      useFactory: (env: Environment) => redisCacheOptions(env),
    }),
    HealthModule,
  ],
})
export class AppModule {}
