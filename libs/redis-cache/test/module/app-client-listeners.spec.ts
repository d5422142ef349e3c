import type { LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Cluster, Redis } from 'ioredis';
import {
  EmbeddingCacheService,
  FAIL_FAST_CLUSTER_OPTIONS,
  FAIL_FAST_REDIS_OPTIONS,
  MessageCacheService,
  RedisCacheHealthIndicator,
  RedisCacheModule,
} from '@wbot/redis-cache';
import { ConnectionReadiness } from '../../src/connections/connection-readiness';
import { addressOf } from '../../src/connections/cluster-nodes';
import { TOPOLOGIES, startTopology, waitUntilReady, type Topology } from '../support/topology';

/**
 * A module started and closed again and again on the app's own client (an app
 * that restarts its modules, a test suite): closing it takes off every listener
 * it added, so nothing adds up on the client and nothing keeps a closed module
 * alive. What stays is what the library adds once per client for its whole life.
 */
const CYCLES = 100;

const silent: LoggerService = { log: () => undefined, warn: () => undefined, error: () => undefined };

type Counts = Record<string, number>;

function counts(emitter: Redis | Cluster): Counts {
  return Object.fromEntries(emitter.eventNames().map((event) => [String(event), emitter.listenerCount(event)]));
}

/** The listener counts of the client, and on a cluster of each node connection, by `host:port`. */
function listenerCounts(client: Redis | Cluster): Record<string, Counts> {
  const all: Record<string, Counts> = { client: counts(client) };
  if (client instanceof Cluster) for (const node of client.nodes()) all[addressOf(node)] = counts(node);
  return all;
}

/** What the second count holds beyond the first, per emitter and event. */
function added(before: Record<string, Counts>, after: Record<string, Counts>): Record<string, Counts> {
  return Object.fromEntries(
    Object.entries(after).map(([emitter, events]) => [
      emitter,
      Object.fromEntries(
        Object.entries(events)
          .map(([event, count]) => [event, count - (before[emitter]?.[event] ?? 0)] as const)
          .filter(([, more]) => more !== 0),
      ),
    ]),
  );
}

/** The app's own client, as an app makes it with ioredis and the library's fail-fast options. */
async function appClient(topology: Topology): Promise<Redis | Cluster> {
  const connection = topology.connection as { url?: string; cluster?: { nodes: { host: string; port: number }[] } };
  const client = connection.cluster
    ? new Cluster(connection.cluster.nodes, { ...FAIL_FAST_CLUSTER_OPTIONS })
    : new Redis(connection.url!, { ...FAIL_FAST_REDIS_OPTIONS });
  client.on('error', () => undefined);
  // ioredis connects a cluster's nodes on their first command: the module's start connects them
  await waitUntilReady(client);
  return client;
}

function masters(topology: Topology): Redis[] {
  const inspect = topology.inspect;
  return inspect instanceof Cluster ? inspect.nodes('master') : [inspect];
}

/** Makes every master refuse writes (or take them again), as one that lost its replicas does. */
async function refuseWrites(topology: Topology, refuse: boolean): Promise<void> {
  const value = refuse ? '1' : '0';
  await Promise.all(masters(topology).map((master) => master.config('SET', 'min-replicas-to-write', value)));
}

/** How many commands the masters refused for want of replicas. */
async function refusals(topology: Topology): Promise<number> {
  const stats = await Promise.all(masters(topology).map((master) => master.info('errorstats')));
  return stats.reduce((sum, info) => sum + Number(/errorstat_NOREPLICAS:count=(\d+)/.exec(info)?.[1] ?? 0), 0);
}

describe.each(TOPOLOGIES)('module start/close cycles on the app’s own client, on %s', (name) => {
  let topology: Topology;

  beforeAll(async () => {
    topology = await startTopology(name);
  }, 60_000);
  afterAll(async () => {
    await topology?.stop();
  });

  it(`${CYCLES} cycles leave the client’s listeners as one cycle did, and one adds only the once-per-client ones`, async () => {
    const client = await appClient(topology);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const before = listenerCounts(client);
      let afterFirst: Record<string, Counts> = {};
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const moduleRef = await Test.createTestingModule({
          imports: [RedisCacheModule.forRoot({ connections: { local: { client }, shared: { client } } })],
        }).compile();
        moduleRef.useLogger(silent);
        const app = await moduleRef.init();
        const messages = app.get(MessageCacheService);
        expect(await app.get(EmbeddingCacheService).cacheEmbedding(`user-${cycle}`, 'text', [cycle])).toBe(true);
        expect(await messages.cacheMessages(`conversation-${cycle}`, [{ id: 'm1' }])).toBe(true);
        expect((await app.get(RedisCacheHealthIndicator).isHealthy('shared'))['redis-shared'].status).toBe('up');
        const failing = cycle % 25 === 24;
        // a write that fails: the settling retries its clear, and watches the connection, until the clear goes
        // through or the module closes (here first, in the last cycle)
        if (failing) await refuseWrites(topology, true);
        if (failing) expect(await messages.appendMessages(`conversation-${cycle}`, [{ id: 'm2' }])).toBe(false);
        await app.close();
        if (cycle === 0) afterFirst = listenerCounts(client);
        if (failing && cycle < CYCLES - 1) await refuseWrites(topology, false);
      }
      // the last module closed with its clear unsettled: once the clear it had on the wire is answered, it sends no
      // more of them (it retried every 250 ms)
      await new Promise((resolve) => setTimeout(resolve, 100));
      const refused = await refusals(topology);
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect((await refusals(topology)) - refused).toBe(0);
      await refuseWrites(topology, false);
      const after = listenerCounts(client);
      expect(after).toEqual(afterFirst);
      // the once-per-client listeners: ConnectionReadiness (ready, close, end) on the client and each node; on a
      // single node, the ioredis workarounds (error, close); on a cluster, prepareClusterNodes (ready, +node) and
      // ClusterNodes (+node, -node) on the client, and the workarounds on each node
      const node = { error: 1, close: 2, ready: 1, end: 1 };
      expect(added(before, after)).toEqual(
        client instanceof Cluster
          ? {
              client: { ready: 2, close: 1, end: 1, '+node': 2, '-node': 1 },
              ...Object.fromEntries(client.nodes().map((master) => [addressOf(master), node])),
            }
          : { client: node },
      );
      // nor does it watch the client's return
      const readiness = ConnectionReadiness.of(client) as unknown as { readyListeners: Set<unknown> };
      expect(readiness.readyListeners.size).toBe(0);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await refuseWrites(topology, false);
      client.disconnect();
      await topology.flushall();
    }
  }, 60_000);
});
