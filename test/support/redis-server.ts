import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { register } from './server-registry';

/**
 * A private `redis-server` process for one test file: started on a free port,
 * stopped afterwards. Tests never touch a Redis they did not start. Fault tests
 * kill, freeze and restart it through this handle.
 */
export class RedisServer {
  private process?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), 'wbot-redis-test-'));

  private constructor(
    readonly port: number,
    private readonly extraArgs: readonly string[],
  ) {}

  static async start(extraArgs: readonly string[] = []): Promise<RedisServer> {
    assertRedisServerInstalled();
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const server = new RedisServer(await freePort(), extraArgs);
      try {
        await server.launch();
        return server;
      } catch (error) {
        lastError = error;
        await server.stop();
      }
    }
    throw lastError;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Stops the server (SIGKILL) and waits for it to exit. */
  async kill(): Promise<void> {
    await this.signalAndWait('SIGKILL');
  }

  freeze(): void {
    this.process?.kill('SIGSTOP');
  }

  thaw(): void {
    this.process?.kill('SIGCONT');
  }

  /**
   * Starts the server again on the same port, empty (and with an empty script cache), or with what it saved
   * before (the soak's foreign keys): `readyWithinMs` is how long it may take to load them and answer PING.
   */
  async restart(readyWithinMs?: number): Promise<void> {
    await this.kill();
    await this.launch(readyWithinMs);
  }

  async stop(): Promise<void> {
    this.thaw();
    await this.signalAndWait('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async launch(readyWithinMs?: number): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      '--daemonize',
      'no',
      ...this.extraArgs,
    ];
    const child = spawnRedisServer(args);
    this.process = child;
    await waitForPong(this.port, child, readyWithinMs);
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

/**
 * Starts `redis-server` with `args`. Where util-linux's `setpriv` is (Linux), it runs under
 * `setpriv --pdeathsig KILL`, which then execs redis-server itself (same pid, so SIGSTOP and SIGKILL reach it): the
 * kernel kills the server when the test process ends, however it ends: after a hook that timed out while servers
 * were still starting, or killed outright by a CI timeout, it leaves no server behind. An `exit` listener could not
 * do this: inside a test file, `process` is Jest's copy, whose events never fire. Every server is also registered
 * (server-registry.ts), and the run's teardown kills any left running, on every platform.
 */
export function spawnRedisServer(args: readonly string[]): ChildProcess {
  const child = canSetParentDeathSignal()
    ? spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'redis-server', ...args], { stdio: 'ignore' })
    : spawn('redis-server', args, { stdio: 'ignore' });
  register(child);
  return child;
}

let parentDeathSignal: boolean | undefined;

function canSetParentDeathSignal(): boolean {
  parentDeathSignal ??= spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true']).status === 0;
  return parentDeathSignal;
}

function assertRedisServerInstalled(): void {
  const probe = spawnSync('redis-server', ['--version']);
  if (probe.error || probe.status !== 0) {
    throw new Error(
      'redis-server is not installed, and the tests start their own. Install it: ' +
        '`sudo apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS).',
    );
  }
}

/** A TCP port free on 127.0.0.1 right now, e.g. for a `--tls-port` beside the plain one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function waitForPong(port: number, child: ChildProcess, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${child.exitCode}`);
    if (await pings(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
}

/** Whether something on 127.0.0.1:`port` answers PING with PONG within 500 ms. */
export function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
