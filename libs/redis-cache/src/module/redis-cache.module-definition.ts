import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { RedisCacheModuleOptions } from '../options/redis-cache-options';

export const {
  ConfigurableModuleClass: ConfigurableRedisCacheModule,
  MODULE_OPTIONS_TOKEN: RAW_OPTIONS_TOKEN,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedisCacheModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
