import { Inject } from '@nestjs/common';

/** Injection token of the validated, complete module options (`ResolvedRedisCacheOptions`). */
export const REDIS_CACHE_OPTIONS = Symbol('REDIS_CACHE_OPTIONS');

/** The module's two connections: `local` (AI-only: embeddings) and `shared` (read by the frontend too: messages). */
export type RedisCacheConnection = 'local' | 'shared';

/** Every connection of the module, for the providers and checks made once per connection. */
export const REDIS_CACHE_CONNECTIONS: readonly RedisCacheConnection[] = ['local', 'shared'];

/**
 * The injection token of one of the module's connections: the ioredis `Redis`
 * (or `Cluster`) that the module created for it, or the app's own client when it
 * gave one.
 */
export function getRedisCacheConnectionToken(connection: RedisCacheConnection): string {
  return `WbotRedisCacheConnection:${connection}`;
}

/** Injects one of the module's connections: `@InjectRedisCacheConnection('shared') redis: Redis`. */
export function InjectRedisCacheConnection(connection: RedisCacheConnection): PropertyDecorator & ParameterDecorator {
  return Inject(getRedisCacheConnectionToken(connection));
}
