import type { Cluster, Redis } from 'ioredis';

/** How long `closeCacheClient` waits for a client to end once asked to. */
const CLOSE_TIMEOUT_MS = 1000;

type Client = Redis | Cluster;

const hasEnded = (client: Client) => (client.status as string) === 'end';

/** Resolves true when `client` emits `'end'`, false after `ms`. */
function endWithin(client: Client, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const ended = () => {
      clearTimeout(timer);
      resolve(true);
    };
    const timer = setTimeout(() => {
      client.off('end', ended);
      resolve(false);
    }, ms);
    client.once('end', ended);
  });
}

/**
 * Closes a client: QUIT when it is ready, a plain disconnect otherwise or when
 * QUIT fails, then waits (at most a second) for it to end. A fail-fast client
 * (no offline queue) refuses QUIT while it is not connected, so a QUIT alone,
 * as `@liaoliaots/nestjs-redis` sends at shutdown, leaves it reconnecting
 * forever. After a QUIT that went through, the client ends by itself (a
 * cluster once each node has): a disconnect on top would start a second close.
 */
export async function closeCacheClient(client: Redis | Cluster): Promise<void> {
  if (hasEnded(client)) return;
  if (client.status === 'ready') {
    const quit = await client.quit().then(
      () => true,
      () => false,
    );
    // ioredis sets the status before it emits the event, so a client not yet 'end' has not emitted it
    if (quit && (hasEnded(client) || (await endWithin(client, CLOSE_TIMEOUT_MS)))) return;
  }
  if (hasEnded(client)) return;
  const ending = endWithin(client, CLOSE_TIMEOUT_MS);
  client.disconnect();
  // between reconnect attempts there is no socket to close, and ioredis then emits no 'end'
  if (!hasEnded(client)) await ending;
}
