import type { OnModuleDestroy } from '@nestjs/common';
import type { ModuleConnections } from './module-connections';
import { OpossumConnectionBreaker } from '../resilience/opossum-breaker';
import type { ConnectionBreaker } from '../resilience/breaker';
import type { RedisCacheConnection } from './redis-cache.tokens';
import type { ResolvedRedisCacheOptions } from '../options/redis-cache-options';

/**
 * The module's breakers, one per connection, so that the caches and the health
 * check on a connection open and close together. Their timers stop with the module.
 */
export class ModuleBreakers implements OnModuleDestroy {
  private readonly breakers: Record<RedisCacheConnection, OpossumConnectionBreaker>;

  constructor(clients: ModuleConnections, { connections, circuitBreaker }: ResolvedRedisCacheOptions) {
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
