import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { RedisCacheModuleOptions } from '../options/redis-cache-options';

/**
 * What Nest's `ConfigurableModuleBuilder` makes of the module's options: a class
 * with `forRoot` / `forRootAsync` (and an `isGlobal` extra), the token of the
 * options as the app gave them, and their types. `RedisCacheModule` builds on it
 * and resolves the options itself.
 */
export const {
  ConfigurableModuleClass: ConfigurableRedisCacheModule,
  MODULE_OPTIONS_TOKEN: RAW_OPTIONS_TOKEN,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RedisCacheModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
