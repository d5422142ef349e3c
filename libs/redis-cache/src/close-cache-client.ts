import type { Cluster, Redis } from 'ioredis';

/** How long `closeCacheClient` waits for a client to end once asked to. */
const CLOSE_TIMEOUT_MS = 1000;

/**
 * Closes a client: QUIT when it is ready, a plain disconnect otherwise, then
 * waits (at most a second) for it to end. A fail-fast client (no offline
 * queue) refuses QUIT while it is not connected, so a QUIT alone, as
 * `@liaoliaots/nestjs-redis` sends at shutdown, leaves it reconnecting forever.
 */
export async function closeCacheClient(client: Redis | Cluster): Promise<void> {
  if (client.status === 'end') return;
  const ended = new Promise((resolve) => client.once('end', resolve));
  if (client.status === 'ready') await client.quit().catch(() => undefined);
  if ((client.status as string) === 'end') return;
  client.disconnect();
  // between reconnect attempts there is no socket to close, and ioredis then emits no 'end'
  if ((client.status as string) === 'end') return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([ended, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)))]);
  clearTimeout(timer);
}
