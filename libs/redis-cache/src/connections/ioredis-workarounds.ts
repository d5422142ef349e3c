import type { Redis } from 'ioredis';
import { version as ioredisVersion } from 'ioredis/package.json';

/** The major version of the ioredis the app installed (a peer: the app's copy, not one of the library's). */
export const IOREDIS_MAJOR = Number(ioredisVersion.split('.')[0]);

/** The clients already worked around: each once, however many modules and caches run on it. */
const applied = new WeakSet<Redis>();

/** The ioredis internals the workarounds below touch. */
interface RedisInternals {
  stream?: NodeJS.EventEmitter;
  socketTimeoutTimer?: NodeJS.Timeout;
  connector?: { failoverDetector?: { isDisconnected: boolean; cleanup(): void } | null };
}

/**
 * Works around the ioredis bugs that leave timers or sockets behind a closed
 * connection, on every single-node or Sentinel client the cache runs on, as
 * far as the installed major needs it. Both act on `'close'`, which ioredis
 * emits before every reconnect and before `'end'`. Each was checked on
 * ioredis 5.11 and 6.0 with the test named below, with and without it.
 *
 * - ioredis 5 arms its `socketTimeout` timer per command and clears it only
 *   when data arrives (redis/ioredis#2147). When a socket closes with a command
 *   unanswered, the timer survives: it destroys the next, healthy connection
 *   `socketTimeout` later, and holds the process open as long after shutdown.
 *   Clearing it on every close prevents both. ioredis 6 clears it on close
 *   itself (#2148), so it is left alone there (client-kill.spec.ts).
 * - With Sentinel's `failoverDetector`, each connection to the master opens a
 *   subscription on every sentinel. `quit()` ends the master connection but not
 *   those (redis/ioredis#1362): they reconnect forever once the sentinels go
 *   away, and the process never exits. ioredis 6 cleans them up on
 *   `disconnect()` (#2198), still not on `quit()`. And a detector that already
 *   fired on a failover is cleaned up a second time on the reconnect, which arms
 *   a 2 s timer on each of its closed sockets. Retiring the detector when its
 *   connection closes (cleaning it up unless it already was) prevents both, on
 *   both majors; ioredis starts a new one on the next connect
 *   (redis-cache.module-topologies.spec.ts, sentinel.spec.ts).
 * - ioredis listens for its socket's errors with `once`, on both majors. A
 *   socket that errs twice, as a TLS handshake refused at both ends can (the
 *   client rejects the certificate, the server answers with an alert), throws
 *   the second error as an uncaught exception, which kills the process. Once a
 *   socket has erred, the later errors of that socket are ignored: it is closing,
 *   and the first one already reached the client's `'error'` listeners
 *   (tls.spec.ts failed so once in a full CI run, on the stack-less OpenSSL error
 *   of the server's alert, and not in 13 runs alone; ioredis-workarounds.spec.ts).
 *
 * Applied once per client, for its whole life: an app's client keeps them after
 * the modules started on it close, as they fix the client itself, and one
 * started again on it adds none.
 */
export function applyIoredisWorkarounds(client: Redis, major = IOREDIS_MAJOR): void {
  if (applied.has(client)) return;
  applied.add(client);
  const internals = client as unknown as RedisInternals;
  const clearsItsSocketTimer = major >= 6;
  client.on('error', () => {
    const stream = internals.stream;
    if (stream && !stream.listeners('error').includes(ignoreLaterErrors)) stream.on('error', ignoreLaterErrors);
  });
  client.on('close', () => {
    if (!clearsItsSocketTimer) {
      clearTimeout(internals.socketTimeoutTimer);
      internals.socketTimeoutTimer = undefined;
    }
    const connector = internals.connector;
    const detector = connector?.failoverDetector;
    if (!connector || !detector) return;
    if (!detector.isDisconnected) detector.cleanup();
    connector.failoverDetector = null;
  });
}

/** A socket's errors after its first, which ioredis already reported. */
function ignoreLaterErrors(): void {
  // the socket is closing; ioredis reconnects on its 'close'
}
