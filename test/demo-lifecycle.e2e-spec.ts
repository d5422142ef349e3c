import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { freePort } from './support/redis-server';

/**
 * `npm run demo` as a user or an orchestrator runs it: through npm, which runs
 * scripts with a shell. A signal to npm's process must stop the whole tree:
 * the app, after its graceful shutdown, and the private redis-server it
 * started. Each run builds first (npm run build), as the command does.
 */
const ROOT = join(__dirname, '..');
const START_TIMEOUT_MS = 60_000;

interface Demo {
  readonly npm: ChildProcess;
  /** Everything it printed, stdout and stderr. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The environment without any Redis setting, so that the demo starts a private redis-server. */
function withoutRedis(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('REDIS_')));
}

function startDemo(env: Record<string, string>): Demo {
  let output = '';
  const npm = spawn('npm', ['run', 'demo'], {
    cwd: ROOT,
    // and no .env file: the demo must not find a Redis of the developer's
    env: { ...withoutRedis(), ENV_FILE: '.env.none', LOG_LEVEL: 'info', DATABASE_PATH: ':memory:', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [npm.stdout, npm.stderr]) stream?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    npm.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { npm, exited, output: () => output };
}

async function until(probe: () => boolean, what: () => string, timeoutMs = START_TIMEOUT_MS): Promise<void> {
  const started = Date.now();
  while (!probe()) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms; output:\n${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every process below `root`, with its command line. */
function descendants(root: number): Map<number, string> {
  const table = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line)!)
    .map(([, pid, ppid, args]) => ({ pid: Number(pid), ppid: Number(ppid), args }));
  const found = new Map<number, string>();
  const visit = (parent: number) => {
    for (const row of table) {
      if (row.ppid === parent && !found.has(row.pid)) {
        found.set(row.pid, row.args);
        visit(row.pid);
      }
    }
  };
  visit(root);
  return found;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const listening = (output: string) => /"msg":"Listening on http:\/\/localhost:\d+/.test(output);

describe('npm run demo', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'exits with its app and its private redis-server on %s to npm, logging one shutdown line',
    async (signal) => {
      const demo = startDemo({ PORT: String(await freePort()) });
      try {
        await until(() => listening(demo.output()), demo.output);
        const tree = descendants(demo.npm.pid!);
        const commands = [...tree.values()];
        expect(commands.filter((args) => /dist\/main\.js/.test(args))).toHaveLength(1);
        expect(commands.filter((args) => /^redis-server /.test(args))).toHaveLength(1);

        demo.npm.kill(signal);
        const exit = await demo.exited;
        await until(
          () => [...tree.keys()].every((pid) => !alive(pid)),
          () => JSON.stringify([...tree]),
          10_000,
        );

        expect(exit.code === 0 || exit.signal === signal).toBe(true);
        expect([...tree.keys()].filter(alive)).toEqual([]);
        const shutdownLines = demo
          .output()
          .split('\n')
          .filter((line) => /"context":"Shutdown"/.test(line));
        expect(shutdownLines).toHaveLength(1);
        expect(shutdownLines[0]).toContain(`"msg":"Shutting down on ${signal}: readiness is down;`);
      } finally {
        if (demo.npm.exitCode === null) demo.npm.kill('SIGKILL');
      }
    },
    90_000,
  );

  it('names PORT in one line when the port is busy, and leaves nothing running', async () => {
    const busy: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => busy.listen(port, resolve));
    const demo = startDemo({ PORT: String(port) });
    try {
      const exit = await demo.exited;
      const lines = demo.output().split('\n');
      expect(exit.code).toBe(1);
      expect(lines.filter((line) => /"level":50/.test(line))).toEqual([
        expect.stringContaining(
          `"msg":"Port ${port} is in use: set PORT to a free port, for example PORT=${port + 1} npm run demo"`,
        ),
      ]);
      expect(demo.output()).not.toMatch(/EADDRINUSE|\n\s+at /);
      const redisPort = /private redis-server on port (\d+)/.exec(demo.output())?.[1];
      expect(redisPort).toBeDefined();
      const processes = execFileSync('ps', ['-A', '-o', 'args='], { encoding: 'utf8' });
      expect(processes.includes(`redis-server 127.0.0.1:${redisPort}`)).toBe(false);
    } finally {
      busy.close();
      if (demo.npm.exitCode === null) demo.npm.kill('SIGKILL');
    }
  }, 90_000);
});
