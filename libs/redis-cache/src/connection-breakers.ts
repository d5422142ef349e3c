import type { OnModuleDestroy } from '@nestjs/common';
import type { CacheConnections } from './cache-connections';
import { OpossumConnectionBreaker } from './circuit-breaker';
import type { ConnectionBreaker } from './connection-breaker';
import type { RedisCacheConnection } from './redis-cache.constants';
import type { ResolvedRedisCacheOptions } from './redis-cache-options.interface';

/**
 * The module's breakers, one per connection, so that the caches and the health
 * check on a connection open and close together. Their timers stop with the module.
 */
export class ConnectionBreakers implements OnModuleDestroy {
  private readonly breakers: Record<RedisCacheConnection, OpossumConnectionBreaker>;

  constructor(clients: CacheConnections, { connections, circuitBreaker }: ResolvedRedisCacheOptions) {
    this.breakers = {
      local: new OpossumConnectionBreaker(connections.local.namespace, circuitBreaker),
      shared: new OpossumConnectionBreaker(connections.shared.namespace, circuitBreaker),
    };
    this.breakers.local.follow(clients.get('local'));
    this.breakers.shared.follow(clients.get('shared'));
  }

  get(connection: RedisCacheConnection): ConnectionBreaker {
    return this.breakers[connection];
  }

  onModuleDestroy(): void {
    this.breakers.local.shutdown();
    this.breakers.shared.shutdown();
  }
}
