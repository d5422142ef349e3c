/**
 * Runs a fixture app's checks, printing the first failure and exiting non-zero on it; then the process must end
 * by itself within the same time: a connection or timer the library left open would keep it alive.
 */
export function runChecks(checks: () => Promise<void>, timeoutMs: number): void {
  let finished = false;
  const exitTimer = setTimeout(() => {
    console.error(
      finished
        ? '  FAIL the process did not exit after the checks closed everything: a Redis connection or timer is still open'
        : `  FAIL the checks did not finish within ${timeoutMs} ms`,
    );
    process.exit(1);
  }, timeoutMs).unref();
  checks().then(
    () => {
      exitTimer.refresh();
      finished = true;
    },
    (error: unknown) => {
      console.error(`  FAIL ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
