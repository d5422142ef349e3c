import {
  RECOVERY_BOUND_MS,
  expectBoundedByPath,
  expectConsistentBookkeeping,
  hits,
  load,
  now,
  recordFigures,
  resetClock,
  sleep,
  until,
  useFaultFixture,
} from './fault-harness';

const USERS = Array.from({ length: 7 }, (_, i) => `user-${i}`);
const STALL_MS = 1000;

const fixture = useFaultFixture(['--enable-debug-command', 'yes']);

/** Runs load through a stall of the fixture.server; returns the figures after asserting the bounds. */
async function throughStall(scenario: string, stall: () => Promise<unknown>) {
  resetClock();
  const traffic = load(fixture.cache, 4, 2);
  await sleep(200);
  const stalledAt = now();
  await stall();
  const endedAt = now();
  const recoveryMs = await until(() => hits(fixture.cache), 5000);
  await traffic.stop();

  const during = traffic.calls.filter((call) => call.at >= stalledAt && call.at < endedAt);
  const figures = { stallMs: STALL_MS, ...expectBoundedByPath(during), recoveryMs };
  expect(recoveryMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
  // writes that timed out still ran once the fixture.server went on: the bookkeeping holds them all
  await expectConsistentBookkeeping(fixture.inspect, USERS);
  recordFigures(scenario, figures);
}

it('DEBUG SLEEP 1 s: calls stay within their bounds, and the bookkeeping is consistent afterwards', async () => {
  await throughStall('debug-sleep', () => fixture.inspect.call('DEBUG', 'SLEEP', String(STALL_MS / 1000)));
}, 20_000);

it('CLIENT PAUSE 1 s: calls stay within their bounds, and the bookkeeping is consistent afterwards', async () => {
  await throughStall('client-pause', async () => {
    await fixture.inspect.call('CLIENT', 'PAUSE', String(STALL_MS), 'ALL');
    await sleep(STALL_MS);
  });
}, 20_000);
