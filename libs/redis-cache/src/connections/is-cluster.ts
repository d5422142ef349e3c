import type { Cluster, Redis } from 'ioredis';

/**
 * Whether a client is an ioredis `Cluster`. Read from ioredis's own flag rather
 * than `instanceof`, so that a client made by the app's copy of ioredis counts too.
 */
export function isCluster(client: Redis | Cluster): client is Cluster {
  return client.isCluster;
}
