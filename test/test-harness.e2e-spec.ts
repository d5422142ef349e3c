import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pings } from './support/redis-server';

/**
 * The test run itself, as jest.config.js sets it up, on the two fixtures of test/harness/ in a Jest run of its own:
 * a hook of 5.5 s that names no timeout passes (once-per-file hooks get 60 s), and a run whose hook timed out with
 * two servers and a retrying client still up kills the servers in its teardown (on Linux setpriv's death signal
 * would too), then ends with code 1 ten seconds later, naming why, where it used to wait for the client for ever.
 */
const ROOT = join(__dirname, '..');
const EXIT_WITHIN_MS = 60_000;

interface Run {
  code: number | null;
  output: string;
  exitedInTime: boolean;
}

function runJest(config: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [require.resolve('jest/bin/jest'), '--config', config, '--verbose'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    let exitedInTime = true;
    const timer = setTimeout(() => {
      exitedInTime = false;
      child.kill('SIGKILL');
    }, EXIT_WITHIN_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, exitedInTime });
    });
  });
}

it('passes a 5.5 s hook, and ends a run whose hook timed out with code 1, leaving no server running', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wbot-harness-'));
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const root = require('../jest.config.js');
    const integration = root.projects.find((project: { displayName: string }) => project.displayName === 'integration');
    const config = join(dir, 'jest.config.json');
    writeFileSync(
      config,
      JSON.stringify({
        ...root,
        rootDir: ROOT,
        projects: [{ ...integration, displayName: 'harness', testMatch: ['<rootDir>/test/harness/*.fixture.ts'] }],
      }),
    );
    const portsFile = join(dir, 'ports.json');

    const run = await runJest(config, { ...process.env, HARNESS_PORTS_FILE: portsFile });

    expect({ exitedInTime: run.exitedInTime, code: run.code }).toEqual({ exitedInTime: true, code: 1 });
    expect(run.output).toContain('✓ runs after a 5.5 s hook that names no timeout');
    expect(run.output).toContain('Exceeded timeout of 1000 ms for a hook');
    expect(run.output).toMatch(/Tests: +1 failed, 1 passed, 2 total/);
    expect(run.output).toMatch(/killed 2 redis-server process\(es\) a test left running: \d+, \d+/);
    expect(run.output).toContain(
      'test run: still running 10 s after the last test, held open by something a test left',
    );
    const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as number[];
    expect(ports).toHaveLength(2);
    expect(await Promise.all(ports.map(pings))).toEqual([false, false]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 90_000);
