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

/** Runs `work` on a short-lived plain client of the server on 127.0.0.1:`port`, which never retries. */
export async function withClient<T>(port: number, work: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await work(client);
  } finally {
    client.disconnect();
  }
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
