import type { Cluster, Redis } from 'ioredis';
import { ClientListeners } from '../../connections/client-listeners';
import { ClusterNodes } from '../../connections/cluster-nodes';
import { isCluster } from '../../connections/is-cluster';
import { NEAR_CACHE_HEARTBEAT_MS, NEAR_CACHE_INVALIDATION_BOUND_MS, reconnectDelay } from '../../options/defaults';
import { ChannelSubscriber, type SubscriberEvents } from './channel-subscriber';

/** What the channel tells the near cache. */
export interface ChannelEvents {
  /** An invalidation message: a user's `vec` key, then the fields that changed, if not all. */
  message(text: string): void;
  /** A subscription began or ended, so an announcement may have been missed: forget everything. */
  resync(): void;
  /** Redis refused a subscription (an ACL without `subscribe`, or without the channel). */
  refused(reason: string): void;
}

/**
 * The subscriber connections' own options: they connect when created, resubscribe
 * themselves on each `'ready'`, and reconnect with the library's backoff even
 * where the client they copy does not (a cluster's node connections leave that
 * to the cluster).
 */
const SUBSCRIBER_OPTIONS = {
  lazyConnect: true,
  autoResubscribe: false,
  enableOfflineQueue: false,
  retryStrategy: (attempt: number) => reconnectDelay(attempt),
};

/**
 * The near cache's invalidation channel: a subscriber connection to every
 * Redis master (one for a single node or a Sentinel master, one per master of
 * a cluster, following the client's slot map), each subscribed to
 * `NEAR_CACHE_CHANNEL`. A script announces a change on the master that runs it,
 * which delivers the message to that master's subscribers at once. Each
 * subscriber is PINGed every `NEAR_CACHE_HEARTBEAT_MS`; `liveUntil` is the
 * oldest of their latest answered PINGs' send times plus
 * `NEAR_CACHE_INVALIDATION_BOUND_MS`. Up to then, every change announced more
 * than the bound ago has been received. A subscription that begins or ends
 * (a reconnect, a new master) makes the near cache forget everything: it may
 * have missed an announcement.
 */
export class InvalidationChannel {
  /** Until when (`performance.now()`) the near cache may serve; -Infinity while a master has no live subscriber. */
  liveUntil = -Infinity;
  private readonly subscribers = new Map<string, ChannelSubscriber>();
  /** The masters that need a subscriber, by `host:port` (`''` for a single node). */
  private masters: string[] = [];
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;
  /** What it listens to on the app's client, taken off at close: the client outlives the cache. */
  private readonly listeners = new ClientListeners();
  private readonly subscriberEvents: SubscriberEvents;

  constructor(
    private readonly client: Redis | Cluster,
    private readonly events: ChannelEvents,
  ) {
    this.subscriberEvents = {
      message: (text) => events.message(text),
      changed: () => {
        this.refreshLiveness();
        events.resync();
      },
      confirmed: () => this.refreshLiveness(),
      refused: (reason) => events.refused(reason),
    };
    if (isCluster(client)) {
      const follow = () => this.followMasters(client);
      for (const event of ['ready', 'refresh', '+node', '-node']) this.listeners.on(client, event, follow);
      follow();
    } else {
      this.masters = [''];
      this.subscribers.set('', new ChannelSubscriber(client.duplicate(SUBSCRIBER_OPTIONS), this.subscriberEvents));
    }
    this.heartbeat = setInterval(() => {
      for (const subscriber of this.subscribers.values()) subscriber.ping();
    }, NEAR_CACHE_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Whether every master has a subscribed connection: only then may a read's vectors be kept. */
  get subscribed(): boolean {
    return this.masters.length > 0 && this.masters.every((master) => this.subscribers.get(master)?.subscribed);
  }

  /** Stops the heartbeat and closes every subscriber connection. */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.removeAll();
    clearInterval(this.heartbeat);
    this.liveUntil = -Infinity;
    const subscribers = [...this.subscribers.values()];
    this.subscribers.clear();
    await Promise.all(subscribers.map((subscriber) => subscriber.close()));
  }

  private refreshLiveness(): void {
    if (this.closed || !this.subscribed) {
      this.liveUntil = -Infinity;
      return;
    }
    let oldest = Infinity;
    for (const master of this.masters) oldest = Math.min(oldest, this.subscribers.get(master)!.confirmedAt);
    this.liveUntil = oldest + NEAR_CACHE_INVALIDATION_BOUND_MS;
  }

  /** Gives each master of the slot map a subscriber, and closes those of masters that left it. */
  private followMasters(cluster: Cluster): void {
    if (this.closed) return;
    const nodes = ClusterNodes.of(cluster);
    const masters = nodes.masters().sort();
    let changed = masters.join(',') !== this.masters.join(',');
    this.masters = masters;
    for (const [address, subscriber] of this.subscribers) {
      if (masters.includes(address)) continue;
      this.subscribers.delete(address);
      void subscriber.close();
    }
    for (const address of masters) {
      const node = nodes.node(address);
      if (this.subscribers.has(address) || !node) continue;
      this.subscribers.set(address, new ChannelSubscriber(node.duplicate(SUBSCRIBER_OPTIONS), this.subscriberEvents));
      changed = true;
    }
    if (changed) this.subscriberEvents.changed();
  }
}
