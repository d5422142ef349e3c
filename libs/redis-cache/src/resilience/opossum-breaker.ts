import type { Cluster, Redis } from 'ioredis';
import CircuitBreaker from 'opossum';
import type { BreakerState, ConnectionBreaker } from './breaker';
import { ClientListeners } from '../connections/client-listeners';
import { addressOf } from '../connections/cluster-nodes';
import { isCluster } from '../connections/is-cluster';
import { isRedirection } from './cluster-redirections';
import type { ResolvedCircuitBreakerOptions } from '../options/redis-cache-options';

type Call = () => Promise<unknown>;

/**
 * A reply from the server, even an error reply, proves the connection answers
 * fast; and a redirection of a cluster (`MOVED`, `ASK`, `TRYAGAIN`, and the
 * error that follows too many of them) says the slot is moving, not that its
 * master fails: counted, it would open the master's breaker for all its slots.
 */
function isServerReply(error: unknown): boolean {
  return (error instanceof Error && error.name === 'ReplyError') || isRedirection(error);
}

/**
 * One scope's breaker on opossum. It opens after `consecutiveFailures` failed
 * calls in a row, or when failures pass a share of the calls in a short rolling
 * window, then after `resetTimeoutMs` lets a single probe through (opossum's
 * half-open), whose outcome closes or reopens it.
 */
class ScopeBreaker {
  readonly breaker: CircuitBreaker<[Call], unknown>;
  private failuresInARow = 0;

  constructor(name: string, options: ResolvedCircuitBreakerOptions) {
    this.breaker = new CircuitBreaker((call: Call) => call(), {
      name,
      // the caller's deadline bounds every call; a second timer per call would only cost
      timeout: false,
      errorThresholdPercentage: options.errorThresholdPercentage,
      volumeThreshold: options.volumeThreshold,
      resetTimeout: options.resetTimeoutMs,
      rollingCountTimeout: options.windowMs,
      rollingCountBuckets: 10,
      // latency percentiles are sorted on every failure and snapshots add a timer: neither is read here
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      errorFilter: isServerReply,
    });
    // opossum only counts a share of the window, and a window full of earlier
    // successes would keep it closed for a whole window while every call now waits
    // for its timeout
    this.breaker.on('success', () => (this.failuresInARow = 0));
    this.breaker.on('close', () => (this.failuresInARow = 0));
    this.breaker.on('failure', () => {
      if (++this.failuresInARow >= options.consecutiveFailures && this.breaker.closed) this.breaker.open();
    });
  }

  get state(): BreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half-open';
    return 'closed';
  }

  close(): void {
    if (!this.breaker.isShutdown) this.breaker.close();
  }
}

/**
 * A connection's breaker: one opossum breaker per scope (per cluster master),
 * created on the scope's first call. Masters are few, so scopes are never pruned:
 * a master that left keeps its open breaker until it is back.
 */
export class OpossumConnectionBreaker implements ConnectionBreaker {
  private readonly breakers = new Map<string, ScopeBreaker>();
  private readonly listeners = new ClientListeners();
  private isShutdown = false;

  constructor(
    private readonly name: string,
    private readonly options: ResolvedCircuitBreakerOptions,
  ) {}

  get state(): BreakerState {
    const states = [...this.breakers.values()].map((scope) => scope.state);
    if (states.length === 0 || states.includes('closed')) return 'closed';
    return states.includes('half-open') ? 'half-open' : 'open';
  }

  stateOf(scope: string): BreakerState {
    return this.breakers.get(scope)?.state ?? 'closed';
  }

  scopes(): Record<string, BreakerState> {
    return Object.fromEntries([...this.breakers].map(([scope, breaker]) => [scope, breaker.state]));
  }

  run<T>(call: () => Promise<T>, scope = ''): Promise<T> {
    return this.scope(scope).breaker.fire(call) as Promise<T>;
  }

  private scope(scope: string): ScopeBreaker {
    let breaker = this.breakers.get(scope);
    if (!breaker) {
      breaker = new ScopeBreaker(scope === '' ? this.name : `${this.name} ${scope}`, this.options);
      if (this.isShutdown) breaker.breaker.shutdown();
      this.breakers.set(scope, breaker);
    }
    return breaker;
  }

  /**
   * Closes the breaker each time `client` becomes ready: a fresh connection has
   * just answered ioredis's ready check, which makes it the probe, so calls need
   * not wait out `resetTimeoutMs` after a reconnect. On a cluster, a master's
   * node connection becoming ready closes that master's scope. Until `shutdown`.
   */
  follow(client: Redis | Cluster): void {
    this.listeners.on(client, 'ready', () => {
      for (const breaker of this.breakers.values()) breaker.close();
    });
    if (!isCluster(client)) return;
    const followNode = (node: Redis) =>
      this.listeners.on(node, 'ready', () => this.breakers.get(addressOf(node))?.close());
    for (const node of client.nodes()) followNode(node);
    this.listeners.on(client, '+node', followNode);
    this.listeners.on(client, '-node', (node: Redis) => this.listeners.removeFrom(node));
  }

  /** Stops the breakers' timers and takes off the listeners `follow` added; later calls reject at once. */
  shutdown(): void {
    this.isShutdown = true;
    this.listeners.removeAll();
    for (const breaker of this.breakers.values()) breaker.breaker.shutdown();
  }
}
