import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster } from 'ioredis';
import { RedisServer } from './redis-server';

const run = promisify(execFile);

/**
 * A private Redis Cluster of three masters and no replicas, on free ports: each
 * node a RedisServer (so tests can kill or freeze one), joined with
 * `redis-cli --cluster create`, and ready once every node says cluster_state:ok.
 */
export class RedisCluster {
  private constructor(readonly masters: RedisServer[]) {}

  static async start(size = 3): Promise<RedisCluster> {
    const args = [
      '--cluster-enabled',
      'yes',
      '--cluster-node-timeout',
      '2000',
      '--cluster-require-full-coverage',
      'no',
    ];
    const masters = await Promise.all(Array.from({ length: size }, () => RedisServer.start(args)));
    const cluster = new RedisCluster(masters);
    try {
      const addresses = masters.map((master) => `127.0.0.1:${master.port}`);
      await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
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

  private async waitUntilOk(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const states = await Promise.all(
        this.masters.map(async (master) => {
          const { stdout } = await run('redis-cli', ['-p', String(master.port), 'cluster', 'info']);
          return /cluster_state:ok/.test(stdout);
        }),
      );
      if (states.every(Boolean)) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the cluster did not reach cluster_state:ok within ${timeoutMs} ms`);
  }
}
