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

const FREEZE_MS = 3000;

const fixture = useFaultFixture();

it('frozen (SIGSTOP 3 s): calls end within the deadline + 50 ms until the breaker opens, then within 5 ms; hits resume after SIGCONT', async () => {
  resetClock();
  const traffic = load(fixture.cache, 4, 2);
  await sleep(300);
  const frozenAt = now();
  fixture.server.freeze();
  await sleep(FREEZE_MS);
  fixture.server.thaw();
  const thawedAt = now();
  const recoveryMs = await until(() => hits(fixture.cache), 5000);
  await traffic.stop();

  const during = traffic.calls.filter((call) => call.at >= frozenAt && call.at < thawedAt);
  const latency = expectBoundedByPath(during);
  expect(during.filter((call) => call.breaker === 'open').length).toBeGreaterThan(0);
  expect(recoveryMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
  expect(fixture.cache.breaker.state).toBe('closed');
  await expectConsistentBookkeeping(
    fixture.inspect,
    Array.from({ length: 7 }, (_, i) => `user-${i}`),
  );
  recordFigures('frozen', { freezeMs: FREEZE_MS, ...latency, recoveryMs });
}, 20_000);
