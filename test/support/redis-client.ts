import { Redis, type Cluster } from 'ioredis';
import { createCacheRedis } from '@wbot/redis-cache';

/** A fail-fast client as the library would use, connected and ready. */
export async function connectedCacheRedis(url: string): Promise<Redis> {
  const client = createCacheRedis(url);
  await waitUntilReady(client);
  return client;
}

/** A plain client for inspecting the server in assertions. */
export async function inspector(url: string): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return client;
}

export function waitUntilReady(client: Redis | Cluster, timeoutMs = 5000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client not ready after ${timeoutMs} ms`)), timeoutMs);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
