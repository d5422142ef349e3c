import { Cluster, Redis } from 'ioredis';
import { createCacheClient } from '../../src/connections/create-client';
import type { CacheClientOptions } from '../../src/connections/connection-options';
import { waitUntilReady as untilReady } from '../../../../test/support/redis-client';
import { RedisCluster } from '../../../../test/support/redis-cluster';
import { RedisServer } from '../../../../test/support/redis-server';

/**
 * One Redis deployment the behaviour suites run on, unchanged: a single server
 * or a three-master Redis Cluster. Each spec file starts one of each, not one
 * per test. Assertions inspect the data through `inspect` (keyed commands, which
 * a cluster client routes to the right master) and the helpers here, which ask
 * every master where a single server would be asked once.
 */
export interface Topology {
  readonly name: string;
  /** A client for the cache, as `createCacheClient` makes one from these connection options. */
  readonly connection: CacheClientOptions;
  /** A plain client for keyed commands in assertions. */
  readonly inspect: Redis | Cluster;
  /** A fail-fast client as the library would use, connected and ready; `overrides` are ioredis options. */
  connect(overrides?: ConnectionOverrides): Promise<Redis | Cluster>;
  /** Every key matching `pattern`, on every master. */
  keys(pattern?: string): Promise<string[]>;
  dbsize(): Promise<number>;
  flushall(): Promise<void>;
  /** Empties the script cache of every master. */
  scriptFlush(): Promise<void>;
  stop(): Promise<void>;
}

export interface ConnectionOverrides {
  commandTimeout?: number;
  disconnectTimeout?: number;
}

export type TopologyName = 'a single node' | 'a three-master cluster';

/** The topologies every behaviour suite runs on. */
export const TOPOLOGIES: readonly TopologyName[] = ['a single node', 'a three-master cluster'];

/** Ready within 10 s by default: a cluster, or a master behind Sentinel, takes longer to come up than one server. */
export function waitUntilReady(client: Redis | Cluster, timeoutMs = 10_000): Promise<void> {
  return untilReady(client, timeoutMs);
}

async function connectWith(connection: CacheClientOptions, overrides: ConnectionOverrides): Promise<Redis | Cluster> {
  const withOverrides: CacheClientOptions =
    'cluster' in connection && connection.cluster
      ? { cluster: { ...connection.cluster, redisOptions: { ...connection.cluster.redisOptions, ...overrides } } }
      : { ...connection, ...overrides };
  const client = createCacheClient(withOverrides);
  await waitUntilReady(client);
  // the library connects every node at once; a call before a node is up would fall back
  if (client instanceof Cluster) await Promise.all(client.nodes('master').map((node) => waitUntilReady(node)));
  return client;
}

async function singleNode(): Promise<Topology> {
  const server = await RedisServer.start();
  const inspect = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await inspect.connect();
  const connection: CacheClientOptions = { url: server.url };
  return {
    name: 'a single node',
    connection,
    inspect,
    connect: (overrides = {}) => connectWith(connection, overrides),
    keys: (pattern = '*') => inspect.keys(pattern),
    dbsize: () => inspect.dbsize(),
    flushall: async () => void (await inspect.flushall()),
    scriptFlush: async () => void (await inspect.script('FLUSH')),
    async stop() {
      inspect.disconnect();
      await server.stop();
    },
  };
}

async function threeMasterCluster(): Promise<Topology> {
  const cluster = await RedisCluster.start();
  const inspect = cluster.inspector();
  await waitUntilReady(inspect);
  const connection: CacheClientOptions = { cluster: { nodes: cluster.nodes } };
  const masters = () => inspect.nodes('master');
  const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
  return {
    name: 'a three-master cluster',
    connection,
    inspect,
    connect: (overrides = {}) => connectWith(connection, overrides),
    keys: async (pattern = '*') => (await Promise.all(masters().map((node) => node.keys(pattern)))).flat(),
    dbsize: async () => sum(await Promise.all(masters().map((node) => node.dbsize()))),
    flushall: async () => void (await Promise.all(masters().map((node) => node.flushall()))),
    scriptFlush: async () => void (await Promise.all(masters().map((node) => node.script('FLUSH')))),
    async stop() {
      inspect.disconnect();
      await cluster.stop();
    },
  };
}

export function startTopology(name: TopologyName): Promise<Topology> {
  return name === 'a single node' ? singleNode() : threeMasterCluster();
}
