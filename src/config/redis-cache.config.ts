import { Logger } from '@nestjs/common';
import type { RedisCacheModuleOptions } from '@wbot/redis-cache';
import { MAX_CACHED_MESSAGE_BYTES } from '../common/limits';
import type { Environment } from './environment';

const logger = new Logger('RedisCacheConfig');

/** Shows where a Redis URL points without its password. */
export function maskRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}

/** Maps the validated environment onto the library's options. */
export function redisCacheOptions(environment: Environment): RedisCacheModuleOptions {
  const localUrl = (environment.REDIS_URL ?? environment.REDIS_URI) as string;
  let sharedUrl = environment.REDIS_SHARED_URL;
  if (!sharedUrl) {
    logger.log(`REDIS_SHARED_URL is not set: messages use the local Redis (${maskRedisUrl(localUrl)})`);
    sharedUrl = localUrl;
  }
  return {
    connections: { local: { url: localUrl }, shared: { url: sharedUrl } },
    embeddings: {
      maxEntriesPerUser: environment.MAX_ENTRIES_PER_USER,
      ttlSeconds: environment.EMBEDDING_TTL_SECONDS,
      // part of every entry's key: vectors of another dimension count are never returned
      namespace: `demo-${environment.EMBEDDING_DIMENSIONS}d`,
    },
    messages: {
      maxCachedMessages: environment.MAX_CACHED_MESSAGES,
      ttlSeconds: environment.MESSAGES_TTL_SECONDS,
      maxMessageBytes: MAX_CACHED_MESSAGE_BYTES,
    },
  };
}
