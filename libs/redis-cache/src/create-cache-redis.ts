import { Redis, type RedisOptions } from 'ioredis';
import { FAIL_FAST_REDIS_OPTIONS } from './defaults';

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
  clearSocketTimeoutOnClose(client);
  return client;
}

/**
 * ioredis up to 5.11.1 arms its `socketTimeout` timer per command and clears it
 * only when data arrives (redis/ioredis#2147). When a socket closes with a
 * command unanswered, the timer survives: it destroys the next, healthy
 * connection `socketTimeout` later, and holds the process open as long after
 * shutdown. Clearing it on every close prevents both.
 */
export function clearSocketTimeoutOnClose(client: Redis): void {
  const internals = client as unknown as { socketTimeoutTimer?: NodeJS.Timeout };
  client.on('close', () => {
    clearTimeout(internals.socketTimeoutTimer);
    internals.socketTimeoutTimer = undefined;
  });
}
