import { Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { logBucketSpreadWhenReady } from '../messages/bucket-spread';
import { ThrottledWarning } from '../resilience/throttled-warning';
import { ClientListeners } from '../connections/client-listeners';
import { closeCacheClient } from '../connections/close-client';
import { waitForReady } from '../connections/connection-readiness';
import { connectionClient, prepareClient, type CreatableConnection } from '../connections/create-client';
import { isCluster } from '../connections/is-cluster';
import { clientSecrets, maskSecrets } from '../connections/mask-secrets';
import { REDIS_CACHE_CONNECTIONS, type RedisCacheConnection } from './redis-cache.tokens';
import type { ResolvedRedisCacheOptions } from '../options/redis-cache-options';
import type { ResolvedConnectionOptions } from '../connections/connection-options';

const logger = new Logger('RedisCache');

/**
 * The module's two connections. It creates a client for each connection given
 * as options, and uses as it is each one given as a `client`. At start
 * (`onModuleInit`) it connects them and waits, at most `readyTimeoutMs`, until
 * both are ready, so the first call after `app.init()` is served; past that it
 * logs once and goes on without Redis. With `readyTimeoutMs` 0 it connects them
 * and goes on at once, without a line: it was told not to wait. At shutdown it
 * closes the clients it created, never the app's own, and takes off every
 * listener it added to them.
 */
export class ModuleConnections implements OnModuleInit, OnApplicationShutdown {
  private readonly clients: Readonly<Record<RedisCacheConnection, Redis | Cluster>>;
  private readonly owned = new Set<Redis | Cluster>();
  private readonly listeners = new ClientListeners();

  constructor(private readonly options: ResolvedRedisCacheOptions) {
    const { local, shared } = options.connections;
    this.clients = { local: this.open('local', local), shared: this.open('shared', shared) };
  }

  get(connection: RedisCacheConnection): Redis | Cluster {
    return this.clients[connection];
  }

  async onModuleInit(): Promise<void> {
    const { readyTimeoutMs } = this.options;
    await Promise.all(
      REDIS_CACHE_CONNECTIONS.map(async (connection) => {
        const client = this.clients[connection];
        if ((await waitForReady(client, readyTimeoutMs)) || readyTimeoutMs === 0) return;
        logger.warn(
          `Redis connection "${this.name(connection)}" is not ready after ${readyTimeoutMs} ms ` +
            `(${client.status}): starting without it; its calls give their fallbacks until it is back`,
        );
      }),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    this.listeners.removeAll();
    await Promise.all([...this.owned].map(closeCacheClient));
  }

  private name(connection: RedisCacheConnection): string {
    return this.options.connections[connection].namespace;
  }

  /** The connection's client, created (lazily: it connects at start) or the app's own, prepared for the cache. */
  private open(connection: RedisCacheConnection, resolved: ResolvedConnectionOptions): Redis | Cluster {
    if (resolved.kind === 'existing') {
      prepareClient(resolved.client);
      this.warnIfQueueing(connection, resolved.client);
    }
    const client = resolved.kind === 'existing' ? resolved.client : connectionClient(lazily(resolved));
    if (resolved.kind !== 'existing') this.owned.add(client);
    this.observe(connection, client);
    return client;
  }

  /**
   * Logs the client's errors (rate-limited, password masked), so that a refused
   * password or certificate shows here and not only as fallbacks, and, on a
   * cluster holding the messages, how the buckets spread over its masters.
   */
  private observe(connection: RedisCacheConnection, client: Redis | Cluster): void {
    const name = this.name(connection);
    const warning = new ThrottledWarning(logger);
    const secrets = clientSecrets(client);
    this.listeners.on(client, 'error', (error: Error) =>
      warning.warn(maskSecrets(`Redis connection "${name}" is down: ${error.message}`, secrets)),
    );
    if (connection === 'shared' && isCluster(client)) {
      logBucketSpreadWhenReady(client, this.options.messages.buckets, (line) => logger.log(line), this.listeners);
    }
  }

  /** An offline queue holds commands past their caller's fallback and may send them later (ioredis#2130). */
  private warnIfQueueing(connection: RedisCacheConnection, client: Redis | Cluster): void {
    if (client.options.enableOfflineQueue === false) return;
    logger.warn(
      `Redis connection "${this.name(connection)}" was given with enableOfflineQueue on: a write that gave its ` +
        'fallback may still run later. Create the client with FAIL_FAST_REDIS_OPTIONS (FAIL_FAST_CLUSTER_OPTIONS).',
    );
  }
}

/** The options with `lazyConnect`, so that no socket opens before the module starts (or if it never does). */
function lazily(resolved: CreatableConnection): CreatableConnection {
  if (resolved.kind === 'cluster') return { ...resolved, cluster: { ...resolved.cluster, lazyConnect: true } };
  return { ...resolved, redis: { ...resolved.redis, lazyConnect: true } };
}
