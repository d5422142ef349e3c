import { Inject, Injectable } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { ModuleConnections } from '../module/module-connections';
import { ClusterNodes } from '../connections/cluster-nodes';
import type { ConnectionBreaker } from '../resilience/breaker';
import { ModuleBreakers } from '../module/module-breakers';
import { withDeadline } from '../resilience/deadline';
import { isCluster } from '../connections/is-cluster';
import { clientSecrets, maskSecrets } from '../connections/mask-secrets';
import { REDIS_CACHE_OPTIONS, type RedisCacheConnection } from '../module/redis-cache.tokens';
import type { ResolvedRedisCacheOptions } from '../options/redis-cache-options';

/** One connection's state, in the shape `@nestjs/terminus` expects of a health indicator. */
export type RedisCacheHealthResult = Record<string, { status: 'up' | 'down' } & Record<string, unknown>>;

/**
 * The result `HealthIndicatorService.check(key).up(data)` / `.down(data)` of
 * `@nestjs/terminus` 11 and 12 builds, made here so that the library does not
 * load Terminus: an app without it can still start, and one with either major
 * composes this check into its `HealthCheckService` as any other.
 */
function indicator(key: string) {
  return {
    up: (data: Record<string, unknown>): RedisCacheHealthResult => ({ [key]: { ...data, status: 'up' } }),
    down: (data: Record<string, unknown>): RedisCacheHealthResult => ({ [key]: { ...data, status: 'down' } }),
  };
}

/** One master of a cluster, as the health check found it. */
interface MasterHealth {
  status: 'up' | 'down';
  breaker: string;
  latencyMs?: number;
  message?: string;
}

/**
 * Terminus checks for the cache's two connections. Down when the connection is
 * not ready, its circuit breaker is open, or a PING does not answer within the
 * deadline. The PING goes through the breaker, so a readiness probe may be the
 * half-open probe that closes it. Never throws, so Terminus answers 503 rather
 * than 500, and never shows the connection's password.
 *
 * On a Redis Cluster, every master is PINGed through its own breaker and
 * reported under `masters` (`host:port`). A dead master takes only its own
 * slots out of the cache, so the connection is down only when no master answers.
 */
export abstract class RedisCacheHealthIndicator {
  /**
   * The connection's health under `key` (default `redis-<connection>`): up with
   * the PING latency, or down with the reason. Never rejects.
   */
  abstract isHealthy(connection: RedisCacheConnection, key?: string): Promise<RedisCacheHealthResult>;
}

/** The indicator `RedisCacheModule` provides as `RedisCacheHealthIndicator`, on the module's connections and breakers. */
@Injectable()
export class ModuleHealthIndicator extends RedisCacheHealthIndicator {
  constructor(
    private readonly connections: ModuleConnections,
    private readonly breakers: ModuleBreakers,
    @Inject(REDIS_CACHE_OPTIONS) private readonly options: ResolvedRedisCacheOptions,
  ) {
    super();
  }

  async isHealthy(connection: RedisCacheConnection, key = `redis-${connection}`): Promise<RedisCacheHealthResult> {
    const check = indicator(key);
    const client = this.connections.get(connection);
    const breaker = this.breakers.get(connection);
    if (client.status !== 'ready') return check.down({ state: client.status, breaker: breaker.state });
    if (isCluster(client)) {
      const nodes = ClusterNodes.of(client);
      const masters: Record<string, MasterHealth> = {};
      for (const address of nodes.masters().sort()) {
        masters[address] = await this.ping(client, nodes.node(address), breaker, address);
      }
      const up = Object.values(masters).some((master) => master.status === 'up');
      const data = { state: client.status, breaker: breaker.state, masters };
      return up ? check.up(data) : check.down(data);
    }
    const { status, ...data } = await this.ping(client, client, breaker, '');
    return status === 'up'
      ? check.up({ state: client.status, ...data })
      : check.down({ state: client.status, ...data });
  }

  private async ping(
    client: Redis | Cluster,
    node: Redis | undefined,
    breaker: ConnectionBreaker,
    scope: string,
  ): Promise<MasterHealth> {
    if (!node || node.status !== 'ready') {
      return { status: 'down', breaker: breaker.stateOf(scope), message: `connection is ${node?.status ?? 'closed'}` };
    }
    const started = performance.now();
    try {
      await breaker.run(() => withDeadline(node.ping(), this.options.deadlineMs), scope);
      const latencyMs = Math.round((performance.now() - started) * 100) / 100;
      return { status: 'up', breaker: breaker.stateOf(scope), latencyMs };
    } catch (error) {
      const message = maskSecrets(error instanceof Error ? error.message : String(error), clientSecrets(client));
      return { status: 'down', breaker: breaker.stateOf(scope), message };
    }
  }
}
