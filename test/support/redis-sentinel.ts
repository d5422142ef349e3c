import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withClient } from './redis-client';
import { RedisServer, freePort, pings, spawnRedisServer } from './redis-server';

/** The master group the sentinels monitor. */
const NAME = 'wbot-master';

/**
 * A private Sentinel deployment on free ports: one master, one replica (each a
 * RedisServer, so tests can kill one) and three sentinels that fail over after
 * 1 s without an answer, with quorum 2. The sentinels' config files (which they
 * rewrite) live in a temp dir removed on stop.
 */
export class RedisSentinel {
  readonly name = NAME;

  private constructor(
    readonly master: RedisServer,
    readonly replica: RedisServer,
    private readonly processes: ChildProcess[],
    readonly sentinelPorts: number[],
    private readonly dir: string,
  ) {}

  static async start(): Promise<RedisSentinel> {
    const master = await RedisServer.start();
    const replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(master.port)]);
    const dir = mkdtempSync(join(tmpdir(), 'wbot-sentinel-test-'));
    const ports = await Promise.all([0, 1, 2].map(() => freePort()));
    const processes = ports.map((port, i) => launchSentinel(port, master.port, join(dir, `sentinel-${i}.conf`), dir));
    const deployment = new RedisSentinel(master, replica, processes, ports, dir);
    try {
      await Promise.all(ports.map((port) => untilTrue(() => pings(port), `sentinel on port ${port} to start`)));
      await deployment.waitUntilMonitored();
      return deployment;
    } catch (error) {
      await deployment.stop();
      throw error;
    }
  }

  get sentinels(): { host: string; port: number }[] {
    return this.sentinelPorts.map((port) => ({ host: '127.0.0.1', port }));
  }

  /** The master's port as each sentinel currently reports it. */
  async masterPorts(): Promise<number[]> {
    return Promise.all(
      this.sentinelPorts.map((port) =>
        withClient(port, async (client) => {
          const [, masterPort] = (await client.call('SENTINEL', 'get-master-addr-by-name', NAME)) as [string, string];
          return Number(masterPort);
        }),
      ),
    );
  }

  /** Waits until every sentinel names `port` as the master. */
  async waitForMaster(port: number, timeoutMs = 20_000): Promise<void> {
    await untilTrue(
      async () => (await this.masterPorts()).every((reported) => reported === port),
      `every sentinel to name port ${port} the master`,
      timeoutMs,
    );
  }

  /** How many clients hold a subscription on the sentinels (ioredis's failover detector holds one per sentinel). */
  async subscribedClients(): Promise<number> {
    const counts = await Promise.all(
      this.sentinelPorts.map((port) =>
        withClient(port, async (client) => {
          const list = (await client.call('CLIENT', 'LIST')) as string;
          return list.split('\n').filter((line) => / sub=[1-9]/.test(line)).length;
        }),
      ),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /** Waits until exactly `count` clients hold a subscription on the sentinels. */
  async waitForSubscribedClients(count: number): Promise<void> {
    await untilTrue(async () => (await this.subscribedClients()) === count, `${count} subscribed clients`, 5000);
  }

  async stop(): Promise<void> {
    await Promise.all(this.processes.map((child) => stopProcess(child)));
    await Promise.all([this.master.stop(), this.replica.stop()]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Until each sentinel knows the replica (in sync) and the two other sentinels: a failover needs both. */
  private async waitUntilMonitored(): Promise<void> {
    await untilTrue(async () => {
      const synced = await withClient(this.replica.port, async (client) =>
        /master_link_status:up/.test(await client.info('replication')),
      );
      const views = await Promise.all(
        this.sentinelPorts.map((port) =>
          withClient(port, async (client) => {
            const fields = (await client.call('SENTINEL', 'master', NAME)) as string[];
            const field = (name: string) => fields[fields.indexOf(name) + 1];
            return field('num-slaves') === '1' && field('num-other-sentinels') === '2';
          }),
        ),
      );
      return synced && views.every(Boolean);
    }, 'the sentinels to discover the replica and each other');
  }
}

function launchSentinel(port: number, masterPort: number, file: string, dir: string): ChildProcess {
  writeFileSync(
    file,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      'daemonize no',
      `dir ${dir}`,
      `sentinel monitor ${NAME} 127.0.0.1 ${masterPort} 2`,
      `sentinel down-after-milliseconds ${NAME} 1000`,
      `sentinel failover-timeout ${NAME} 5000`,
      `sentinel parallel-syncs ${NAME} 1`,
      '',
    ].join('\n'),
  );
  return spawnRedisServer([file, '--sentinel']);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

async function untilTrue(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
