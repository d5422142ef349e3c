import type { Cluster, Redis } from 'ioredis';
import { isCluster } from './is-cluster';

type Client = Redis | Cluster;

/**
 * What a call on a client that is not ready does: `connecting` waits for
 * `ready` within its deadline, `down` gives its fallback at once.
 */
export type Readiness = 'ready' | 'connecting' | 'down';

type Waiter = { readonly untilDown: boolean; settle(ready: boolean): void };

const followed = new WeakMap<Client, ConnectionReadiness>();

/**
 * Follows one client's connection, shared by every cache on that client.
 *
 * - `connecting`: the first connect, or the reconnect right after a ready
 *   connection was lost (a blip). A call waits for `ready`.
 * - `down`: a connect attempt failed since the client was last ready, or the
 *   client is closing or has ended. A call gives its fallback without waiting.
 *
 * ioredis emits its status events a tick after the status changes, in order,
 * so a `'close'` that follows a `'ready'` is the loss of a working connection,
 * and any later `'close'` before the next `'ready'` is a failed attempt.
 */
export class ConnectionReadiness {
  private wasReady: boolean;
  private failedAttempts: number;
  private readonly waiters = new Set<Waiter>();
  private readonly readyListeners = new Set<() => void>();

  private constructor(private readonly client: Client) {
    this.wasReady = client.status === 'ready';
    // a client met while reconnecting may have failed any number of attempts: assume it is down
    this.failedAttempts = client.status === 'reconnecting' ? 1 : 0;
    client.on('ready', () => {
      this.wasReady = true;
      this.failedAttempts = 0;
      this.wake(() => true, true);
      for (const listener of [...this.readyListeners]) listener();
    });
    client.on('close', () => {
      if (this.wasReady) {
        this.wasReady = false;
        return;
      }
      this.failedAttempts++;
      this.wake((waiter) => waiter.untilDown, false);
    });
    client.on('end', () => this.wake(() => true, false));
  }

  /** The one tracker of `client`, created on first use. */
  static of(client: Client): ConnectionReadiness {
    let readiness = followed.get(client);
    if (!readiness) {
      readiness = new ConnectionReadiness(client);
      followed.set(client, readiness);
    }
    return readiness;
  }

  /** Calls `listener` each time the client becomes ready, until the returned function is called. */
  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  get state(): Readiness {
    const status = this.client.status;
    if (status === 'ready') return 'ready';
    if (status === 'end' || status === 'disconnecting' || this.failedAttempts > 0) return 'down';
    return 'connecting';
  }

  /**
   * Resolves true once the client is ready, false after `timeoutMs`. With
   * `untilDown`, a call's wait, it also gives up as soon as the connection is
   * known to be down; without, a start-up wait, it lets reconnect attempts go on
   * until the timeout. A client that was never told to connect (`lazyConnect`)
   * is connected, even by a wait of 0 ms, which resolves false at once.
   */
  whenReady(timeoutMs: number, untilDown: boolean): Promise<boolean> {
    if (this.client.status === 'ready') return Promise.resolve(true);
    if (this.client.status === 'wait') this.client.connect().catch(() => undefined);
    if (this.client.status === 'end' || (untilDown && this.state === 'down') || timeoutMs <= 0) {
      return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        untilDown,
        settle: (ready) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(ready);
        },
      };
      const timer = setTimeout(() => waiter.settle(false), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private wake(which: (waiter: Waiter) => boolean, ready: boolean): void {
    for (const waiter of [...this.waiters]) if (which(waiter)) waiter.settle(ready);
  }
}

/**
 * Waits up to `timeoutMs` for `client` to be ready, and for a cluster, for the
 * connections to all its masters, so that the first command sent to each is
 * served. True when all were ready in time. Never rejects.
 */
export async function waitForReady(client: Client, timeoutMs: number): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  if (!(await ConnectionReadiness.of(client).whenReady(timeoutMs, false))) return false;
  if (!isCluster(client)) return true;
  const masters = client.nodes('master');
  const ready = await Promise.all(
    masters.map((node) => ConnectionReadiness.of(node).whenReady(until - performance.now(), false)),
  );
  return ready.every(Boolean);
}
