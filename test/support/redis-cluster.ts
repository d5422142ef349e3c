import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { withClient } from './redis-client';
import { RedisServer } from './redis-server';

const run = promisify(execFile);

/**
 * A private Redis Cluster of three masters and no replicas, on free ports: each
 * node a RedisServer (so tests can kill or freeze one), given its share of the
 * slots and its own config epoch, introduced to every other node with
 * `CLUSTER MEET`, and ready once every node knows every node, serves every slot
 * and says cluster_state:ok. A master says ok no sooner than 2 s after it
 * started (Redis's writable delay), so that is the floor: 2.1 s every time, over
 * 24 starts on an idle 2-core machine. `redis-cli --cluster create`, which this
 * replaces, waits for the nodes to agree in steps of a second and took 2.1 to
 * 6.2 s over 12 starts, past the 5 s a Jest hook has by default.
 */
export class RedisCluster {
  private constructor(readonly masters: RedisServer[]) {}

  /** `extraArgs` go to every node, e.g. `--enable-debug-command yes` for the soak's `DEBUG POPULATE`. */
  static async start(size = 3, extraArgs: readonly string[] = []): Promise<RedisCluster> {
    const args = [
      '--cluster-enabled',
      'yes',
      '--cluster-node-timeout',
      '2000',
      '--cluster-require-full-coverage',
      'no',
      ...extraArgs,
    ];
    const masters = await Promise.all(Array.from({ length: size }, () => RedisServer.start(args)));
    const cluster = new RedisCluster(masters);
    try {
      await cluster.form();
      await cluster.waitUntilOk();
      return cluster;
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  get nodes(): { host: string; port: number }[] {
    return this.masters.map((master) => ({ host: '127.0.0.1', port: master.port }));
  }

  /** The master that serves `key`'s slot. */
  async masterOf(key: string): Promise<RedisServer> {
    const { stdout } = await run('redis-cli', ['-p', String(this.masters[0].port), 'cluster', 'keyslot', key]);
    const slot = Number(stdout.trim());
    const { stdout: slots } = await run('redis-cli', [
      '-p',
      String(this.masters[0].port),
      '--json',
      'cluster',
      'slots',
    ]);
    const ranges = JSON.parse(slots) as [number, number, [string, number]][];
    const owner = ranges.find(([from, to]) => slot >= from && slot <= to);
    const master = this.masters.find((candidate) => candidate.port === owner?.[2][1]);
    if (!master) throw new Error(`no master serves slot ${slot}`);
    return master;
  }

  /** A plain cluster client for inspecting the data in assertions. */
  inspector(): Cluster {
    return new Cluster(this.nodes, { enableReadyCheck: true });
  }

  async stop(): Promise<void> {
    await Promise.all(this.masters.map((master) => master.stop()));
  }

  /** The slots split as redis-cli splits them (0-5460, 5461-10922 and 10923-16383 for three), then the meetings. */
  private async form(): Promise<void> {
    const share = (index: number) => Math.round((index * SLOTS) / this.masters.length);
    await Promise.all(
      this.masters.map((master, index) =>
        withClient(master.port, async (node) => {
          const slots = Array.from({ length: share(index + 1) - share(index) }, (_, offset) => share(index) + offset);
          await node.call('CLUSTER', 'ADDSLOTS', ...slots);
          // distinct epochs up front, or the nodes spend a while resolving the collision of all starting at 0
          await node.call('CLUSTER', 'SET-CONFIG-EPOCH', index + 1);
        }),
      ),
    );
    // every pair meets: a node that had only heard of another through gossip learnt of it up to 2 s later
    await Promise.all(
      this.masters.map((master, index) =>
        withClient(master.port, async (node) => {
          for (const later of this.masters.slice(index + 1)) {
            await node.call('CLUSTER', 'MEET', '127.0.0.1', later.port);
          }
        }),
      ),
    );
  }

  private async waitUntilOk(timeoutMs = 15_000): Promise<void> {
    const size = this.masters.length;
    const agreed = (info: string) =>
      info.includes('cluster_state:ok') &&
      info.includes(`cluster_slots_ok:${SLOTS}`) &&
      info.includes(`cluster_known_nodes:${size}`);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const infos = await Promise.all(
        this.masters.map((master) =>
          withClient(master.port, (node) => node.call('CLUSTER', 'INFO') as Promise<string>),
        ),
      );
      if (infos.every(agreed)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the cluster did not agree on ${size} nodes serving all ${SLOTS} slots within ${timeoutMs} ms`);
  }
}

const SLOTS = 16384;
