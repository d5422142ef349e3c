import type { Redis } from 'ioredis';
import { closeCacheClient } from '../../connections/close-client';
import { applyIoredisWorkarounds } from '../../connections/ioredis-workarounds';
import { NEAR_CACHE_CHANNEL } from '../../keys';
import { NEAR_CACHE_SUBSCRIBE_RETRY_MS } from '../../options/defaults';

/** What a subscriber tells its channel. */
export interface SubscriberEvents {
  /** An invalidation message. */
  message(text: string): void;
  /** The subscription began or ended: what was announced before it began, or after it ended, is not known. */
  changed(): void;
  /** A PING sent while subscribed was answered. */
  confirmed(): void;
  /** Redis refused the subscription. */
  refused(reason: string): void;
}

/**
 * One connection subscribed to `NEAR_CACHE_CHANNEL`, on one Redis (or one
 * cluster master): a duplicate of the cache's own connection, with the same
 * options, which subscribes again each time it is ready (never replaying a
 * subscription by itself), and says when it has lost it. `confirmedAt` is the
 * send time of the latest PING it has had answered since it subscribed: every
 * message published before then has reached it, since a connection delivers
 * messages and replies in the order Redis sent them.
 */
export class ChannelSubscriber {
  /** The send time (`performance.now()`) of the latest answered PING of this subscription; -Infinity before one. */
  confirmedAt = -Infinity;
  /** Whether the connection is subscribed now. */
  subscribed = false;
  private closed = false;
  /** Which subscription a reply belongs to: raised on every attempt and every loss. */
  private generation = 0;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly connection: Redis,
    private readonly events: SubscriberEvents,
  ) {
    applyIoredisWorkarounds(connection);
    connection.on('error', () => {
      // a failure shows as the subscription lost ('close'), then as the reconnect's
    });
    connection.on('message', (channel: string, message: string) => {
      if (channel === NEAR_CACHE_CHANNEL) events.message(message);
    });
    connection.on('ready', () => this.subscribe());
    connection.on('close', () => this.lose());
    connection.connect().catch(() => undefined);
  }

  /** Sends a PING if subscribed; its answer raises `confirmedAt` to the time it was sent. */
  ping(): void {
    if (!this.subscribed) return;
    const { generation } = this;
    const sentAt = performance.now();
    this.connection.ping().then(
      () => {
        if (generation !== this.generation) return;
        this.confirmedAt = Math.max(this.confirmedAt, sentAt);
        this.events.confirmed();
      },
      () => undefined,
    );
  }

  /** Ends the subscription and closes the connection. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.lose();
    await closeCacheClient(this.connection);
  }

  private subscribe(): void {
    if (this.closed) return;
    const generation = ++this.generation;
    this.connection.subscribe(NEAR_CACHE_CHANNEL).then(
      () => {
        if (generation !== this.generation) return;
        this.subscribed = true;
        this.confirmedAt = -Infinity;
        this.events.changed();
        this.ping();
      },
      (error: unknown) => {
        if (generation !== this.generation || this.connection.status !== 'ready') return;
        this.events.refused(error instanceof Error ? error.message : String(error));
        this.retry = setTimeout(
          () => this.connection.status === 'ready' && this.subscribe(),
          NEAR_CACHE_SUBSCRIBE_RETRY_MS,
        );
        this.retry.unref();
      },
    );
  }

  private lose(): void {
    this.generation++;
    if (!this.subscribed) return;
    this.subscribed = false;
    this.confirmedAt = -Infinity;
    this.events.changed();
  }
}
