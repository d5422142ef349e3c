import { RedisCluster } from './redis-cluster';
import { RedisSentinel } from './redis-sentinel';

/** A private 3-master Redis Cluster and a private Sentinel deployment (master, replica, three sentinels). */
export interface ClusterAndSentinel {
  cluster: RedisCluster;
  sentinel: RedisSentinel;
}

/**
 * Starts both before all of the enclosing describe's tests and stops them after;
 * the fields are set once `beforeAll` has run.
 */
export function useClusterAndSentinel(): ClusterAndSentinel {
  const engines = {} as ClusterAndSentinel;
  beforeAll(async () => {
    [engines.cluster, engines.sentinel] = await Promise.all([RedisCluster.start(), RedisSentinel.start()]);
  }, 30_000); // a cluster forms in about 2 s alone, far slower on a loaded machine
  afterAll(async () => {
    await Promise.all([engines.cluster?.stop(), engines.sentinel?.stop()]);
  });
  return engines;
}
