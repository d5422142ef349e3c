import type { Redis } from 'ioredis';

/** The ioredis internals the workarounds below touch. */
interface RedisInternals {
  socketTimeoutTimer?: NodeJS.Timeout;
  connector?: { failoverDetector?: { isDisconnected: boolean; cleanup(): void } | null };
}

/**
 * Works around two ioredis bugs (both in 5.11.1, the version this library
 * installs) that leave timers or sockets behind a closed connection, on every
 * single-node or Sentinel client the library creates or is given. Both act on `'close'`, which
 * ioredis emits before every reconnect and before `'end'`.
 *
 * - ioredis arms its `socketTimeout` timer per command and clears it only when
 *   data arrives (redis/ioredis#2147). When a socket closes with a command
 *   unanswered, the timer survives: it destroys the next, healthy connection
 *   `socketTimeout` later, and holds the process open as long after shutdown.
 *   Clearing it on every close prevents both.
 * - With Sentinel's `failoverDetector`, each connection to the master opens a
 *   subscription on every sentinel. `quit()` ends the master connection but not
 *   those (redis/ioredis#1362; the fix, #2198, is merged but unreleased): they
 *   reconnect forever once the sentinels go away, and the process never exits.
 *   And a detector that already fired on a failover is cleaned up a second time
 *   on the reconnect, which arms a 2 s timer on each of its closed sockets.
 *   Retiring the detector when its connection closes (cleaning it up unless it
 *   already was) prevents both; ioredis starts a new one on the next connect.
 */
export function applyIoredisWorkarounds(client: Redis): void {
  const internals = client as unknown as RedisInternals;
  client.on('close', () => {
    clearTimeout(internals.socketTimeoutTimer);
    internals.socketTimeoutTimer = undefined;
    const connector = internals.connector;
    const detector = connector?.failoverDetector;
    if (!connector || !detector) return;
    if (!detector.isDisconnected) detector.cleanup();
    connector.failoverDetector = null;
  });
}
