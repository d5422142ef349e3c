import { closeRegistry } from './server-registry';

/**
 * Once the last test has run, a run's process should exit by itself: docs/reliability.md holds the library to
 * leaving nothing open, so the run goes without `--forceExit`. A hook that timed out while servers and clients were
 * still starting leaves them running, though; on 2 cores Jest runs every file in its one process (in band), and CI
 * once waited for such a run until its 5400 s ran out.
 */
const EXIT_WITHIN_MS = 10_000;

/** Jest's globalTeardown: kills the redis-server processes a test left running, then fails a run that does not end. */
export default function globalTeardown(): void {
  closeRegistry();
  setTimeout(() => {
    console.error(
      `test run: still running ${EXIT_WITHIN_MS / 1000} s after the last test, held open by something a test left ` +
        '(`npx jest --detectOpenHandles` names it): exiting with code 1',
    );
    process.exit(1);
  }, EXIT_WITHIN_MS).unref();
}
