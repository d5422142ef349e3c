import { Redis, type RedisOptions } from 'ioredis';
import { FAIL_FAST_REDIS_OPTIONS } from './defaults';
import { applyIoredisWorkarounds } from './ioredis-workarounds';

/**
 * An ioredis client with the library's fail-fast defaults (no offline queue, no
 * retries per request, 100 ms command timeout, capped reconnect with jitter),
 * which `options` may override, and an `'error'` listener so that a failure can
 * never surface as an unhandled error event.
 */
export function createCacheRedis(url: string, options: RedisOptions = {}): Redis {
  const client = new Redis(url, { ...FAIL_FAST_REDIS_OPTIONS, ...options });
  client.on('error', () => {
    // Failures surface as fallbacks on each call; the client reconnects by itself.
  });
  applyIoredisWorkarounds(client);
  return client;
}
