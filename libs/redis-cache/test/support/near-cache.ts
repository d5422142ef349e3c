import type { Socket } from 'node:net';
import { Cluster, type Redis } from 'ioredis';
import type { EmbeddingCacheService } from '@wbot/redis-cache';
import { until } from '../../../../test/support/until';

/** Resolves with `embeddings` once its near cache serves: subscribed on every master, and answered in time. */
export async function serving(embeddings: EmbeddingCacheService, timeoutMs = 5000): Promise<EmbeddingCacheService> {
  await until(() => embeddings.nearCacheUsage()?.serving === true, timeoutMs);
  return embeddings;
}

/** A single node's client itself, or a cluster client's master connections. */
export function mastersOf(redis: Redis | Cluster): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/**
 * The subscriber connections that near caches created on `redis` from now on
 * open (each a duplicate of the client, or of a cluster master's connection),
 * as they are made. `jest.restoreAllMocks()` stops the spying.
 */
export function subscribersOf(redis: Redis | Cluster): Redis[] {
  const made: Redis[] = [];
  for (const source of mastersOf(redis)) {
    const duplicate = source.duplicate.bind(source);
    jest.spyOn(source, 'duplicate').mockImplementation((override) => {
      const connection = duplicate(override);
      made.push(connection);
      return connection;
    });
  }
  return made;
}

/** Stops reading what reaches `connections` (messages and replies wait in their sockets); the result resumes. */
export function pause(connections: Redis[]): () => void {
  const sockets = connections.map((connection) => (connection as unknown as { stream: Socket }).stream);
  for (const socket of sockets) socket.pause();
  return () => sockets.forEach((socket) => socket.resume());
}

/** How many subscriber (pub/sub) connections each of `masters` has, from its CLIENT LIST. */
export async function subscriberCounts(masters: Redis[]): Promise<number[]> {
  return Promise.all(
    masters.map(async (node) => {
      const list = (await node.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
      return list.trim() === '' ? 0 : list.trim().split('\n').length;
    }),
  );
}

/** How many calls of the commands that read or write entries (the scripts, HMGET) `masters` have run so far. */
export async function entryCommands(masters: Redis[]): Promise<number> {
  const counts = await Promise.all(
    masters.map(async (node) => {
      const info = await node.info('commandstats');
      return [...info.matchAll(/^cmdstat_(evalsha|eval|hmget):calls=(\d+)/gm)].reduce((n, m) => n + Number(m[2]), 0);
    }),
  );
  return counts.reduce((sum, n) => sum + n, 0);
}
