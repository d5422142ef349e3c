import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * The redis-server processes a test run started, as one empty file per pid in a directory that the run's
 * globalSetup makes (WBOT_TEST_SERVER_PIDS). A server's file goes when its exit is seen; whatever is left at the
 * end of the run is a server a test left running, and globalTeardown kills it. This holds on every platform, and
 * also after a hook that timed out while it was still starting servers. (On Linux the servers also run under
 * `setpriv --pdeathsig KILL`, which covers a run that is itself killed; see redis-server.ts.)
 */

const VARIABLE = 'WBOT_TEST_SERVER_PIDS';

/** globalSetup: a fresh directory for this run, named in the environment that test files and workers inherit. */
export function openRegistry(): void {
  process.env[VARIABLE] = mkdtempSync(join(tmpdir(), 'wbot-test-servers-'));
}

/** Notes a server the run started, until its exit is seen. Outside a Jest run (no registry), does nothing. */
export function register(child: ChildProcess): void {
  const dir = process.env[VARIABLE];
  if (!dir || child.pid === undefined) return;
  const file = join(dir, String(child.pid));
  writeFileSync(file, '');
  child.once('exit', () => rmSync(file, { force: true }));
}

/**
 * globalTeardown: kills every registered server still running, and says which. A pid is signalled only while
 * `ps` names it redis-server, so a pid reused by another program after its server died is never touched.
 */
export function closeRegistry(): void {
  const dir = process.env[VARIABLE];
  if (!dir) return;
  const killed: number[] = [];
  for (const name of readdirSync(dir)) {
    const pid = Number(name);
    const command = spawnSync('ps', ['-p', String(pid), '-o', 'comm='], { encoding: 'utf8' }).stdout.trim();
    if (!/redis-server/.test(command)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // it ended between ps and kill
    }
  }
  rmSync(dir, { recursive: true, force: true });
  delete process.env[VARIABLE];
  if (killed.length > 0) {
    console.error(
      `test run: killed ${killed.length} redis-server process(es) a test left running: ${killed.join(', ')}`,
    );
  }
}
