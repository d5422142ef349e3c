import type { Cluster, Redis } from 'ioredis';
import type { CacheLogger } from '../options/redis-cache-options';
import { ThrottledWarning } from './throttled-warning';
import type { ConnectionBreaker, ConnectionState } from './breaker';
import { ClusterNodes } from '../connections/cluster-nodes';
import { ConnectionReadiness, waitForReady } from '../connections/connection-readiness';
import { isCluster } from '../connections/is-cluster';
import { coalesceWrites } from '../connections/write-coalescing';
import { DeadlineExceededError } from './deadline';
import { withRedirections } from './cluster-redirections';
import { clientSecrets, maskSecrets } from '../connections/mask-secrets';
import type { CacheSpan } from '../tracing/cache-span';
import { FALLBACK_TYPES } from '../tracing/span-attributes';

/** The connection a call goes through, and the breaker scope it counts in. */
interface Route {
  readonly connection: Redis | Cluster;
  readonly scope: string;
}

/** A failure's `error.type` on the call's span: a timeout, an open breaker, or the error's own name. */
function fallbackType(error: unknown): string {
  if (error instanceof DeadlineExceededError) return FALLBACK_TYPES.timeout;
  if ((error as { code?: unknown } | null)?.code === 'EOPENBREAKER') return FALLBACK_TYPES.breakerOpen;
  return error instanceof Error ? error.name : '_OTHER';
}

/** What a `SafeRedis` needs beside its client: the connection's name, the deadline, a logger, and its breaker. */
export interface SafeRedisOptions {
  /** Names the connection in log lines. */
  readonly connection: string;
  /** The most a call may take before it gives its fallback. */
  readonly deadlineMs: number;
  readonly logger: CacheLogger;
  /** The connection's circuit breaker, if it has one; shared with the other caches on the client. */
  readonly breaker?: ConnectionBreaker;
  /** Called once per call that gave its fallback. */
  readonly onFallback?: (operation: string) => void;
}

/**
 * Runs Redis calls so that a Redis failure never reaches the caller. A call on
 * a connection that is connecting (its first connect, or a reconnect after a
 * blip) waits for it within the deadline; one on a connection known to be down,
 * or whose breaker is open, gives its fallback at once, without touching the
 * network; a failing call gives it when it fails; a slow one when the deadline
 * passes. Argument errors are thrown before a call gets here. Log lines never
 * show the connection's password.
 */
export class SafeRedis {
  private readonly warning: ThrottledWarning;
  private readonly secrets: readonly string[];
  /** The route of every call on a single node or Sentinel connection. */
  private readonly direct: Route;

  constructor(
    readonly client: Redis | Cluster,
    private readonly options: SafeRedisOptions,
  ) {
    this.warning = new ThrottledWarning(options.logger);
    this.secrets = clientSecrets(client);
    // followed from now on, so that a failed connect attempt shows before the first call
    ConnectionReadiness.of(client);
    this.direct = { connection: client, scope: '' };
  }

  /**
   * Runs `call`, whose keys all share `key`'s hash slot. On a cluster, a call
   * waits only for the node that serves that slot, so a node still connecting
   * holds up its own keys and no others. A fallback is reported to `span`, the
   * traced call's, if it has one.
   */
  run<T>(operation: string, fallback: T, call: () => Promise<T>, key: string, span?: CacheSpan): Promise<T> {
    const route = this.route(key);
    if (route.connection.status === 'ready') {
      return this.runBounded(operation, fallback, call, this.options.deadlineMs, route, span);
    }
    return this.runWhenReady(operation, fallback, call, key, route, span);
  }

  /**
   * Runs background work that no caller waits for (the settling's clears) as
   * `run` runs a call, on a connection that is ready: within the deadline and
   * through the breaker, so that a frozen server can't hold it for ever and its
   * failures count like any call's. Rejects on a failure instead of giving a
   * fallback, and logs nothing: its owner retries, and warns.
   */
  attempt<T>(call: () => Promise<T>, key: string): Promise<T> {
    const route = this.route(key);
    if (route.connection.status !== 'ready') {
      return Promise.reject(new Error(`connection is ${route.connection.status}`));
    }
    return this.bounded(call, this.options.deadlineMs, route);
  }

  /** Resolves true once the connection is ready (for a cluster, with all its masters), false after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<boolean> {
    return waitForReady(this.client, timeoutMs);
  }

  /**
   * Where a call on `key` goes: the client, or on a ready cluster the node that
   * serves the key's slot (the cluster itself while its slot map names none or
   * has no connection to it); and its breaker scope, the `host:port` of that
   * slot's master, so that a dead master opens the breaker for its own slots only.
   */
  private route(key: string): Route {
    if (!isCluster(this.client)) return this.direct;
    const nodes = ClusterNodes.of(this.client);
    const scope = nodes.addressFor(key) ?? '';
    const node = this.client.status === 'ready' && scope !== '' ? nodes.node(scope) : undefined;
    return { connection: node ?? this.client, scope };
  }

  /** A connection that is not ready and not known to be down is waited for, within the same deadline. */
  private async runWhenReady<T>(
    operation: string,
    fallback: T,
    call: () => Promise<T>,
    key: string,
    first: Route,
    span: CacheSpan | undefined,
  ): Promise<T> {
    const started = performance.now();
    const left = () => this.options.deadlineMs - (performance.now() - started);
    // a cluster first, then the node serving the key
    let route = first;
    while (route.connection.status !== 'ready') {
      const { connection, scope } = route;
      const readiness = ConnectionReadiness.of(connection);
      // a connection that is down says so itself: no breaker, no failure to count
      const down = readiness.state === 'down';
      if (down || this.options.breaker?.stateOf(scope) === 'open') {
        const type = down ? FALLBACK_TYPES.unavailable : FALLBACK_TYPES.breakerOpen;
        return this.fallBack(operation, fallback, `connection is ${connection.status}`, type, span);
      }
      if (!(await readiness.whenReady(left(), true)) || left() <= 0) {
        const reason = `connection is ${connection.status} (not ready in time)`;
        return this.fallBack(operation, fallback, reason, FALLBACK_TYPES.unavailable, span);
      }
      // once the cluster is ready, its slot map names the node and the master
      route = this.route(key);
    }
    return this.runBounded(operation, fallback, call, left(), route, span);
  }

  /** Runs `call` on a ready connection, within `ms`, through the breaker; its fallback on a failure. */
  private runBounded<T>(
    operation: string,
    fallback: T,
    call: () => Promise<T>,
    ms: number,
    route: Route,
    span: CacheSpan | undefined,
  ): Promise<T> {
    const fallBack = (error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      return this.fallBack(operation, fallback, reason, fallbackType(error), span);
    };
    // a breaker (or a call) that throws before it returns a promise is a failure like any other, never the caller's
    let running: Promise<T>;
    try {
      running = this.bounded(call, ms, route);
    } catch (error) {
      return Promise.resolve(fallBack(error));
    }
    return running.catch(fallBack);
  }

  /**
   * Runs `call` on a ready connection, within `ms`, through the breaker; rejects
   * on a failure. On a cluster, a call whose slot is moving follows its
   * redirections and tries again within `ms`. The commands it sends in this tick
   * leave in one socket write to the route's connection: on a cluster, the node
   * of the call's slot.
   */
  private bounded<T>(call: () => Promise<T>, ms: number, { connection, scope }: Route): Promise<T> {
    coalesceWrites(connection);
    const bounded = () => withRedirections(call, ms);
    return this.options.breaker ? this.options.breaker.run(bounded, scope) : bounded();
  }

  connectionState(): ConnectionState {
    const state: ConnectionState = {
      connection: this.options.connection,
      status: this.client.status,
      breaker: this.options.breaker?.state ?? 'none',
    };
    if (isCluster(this.client) && this.options.breaker) state.masters = this.options.breaker.scopes();
    return state;
  }

  private fallBack<T>(operation: string, fallback: T, reason: string, type: string, span: CacheSpan | undefined): T {
    this.options.onFallback?.(operation);
    span?.fellBack(type);
    this.warning.warn(
      maskSecrets(`Redis connection "${this.options.connection}" failed during ${operation}: ${reason}`, this.secrets),
    );
    return fallback;
  }
}
