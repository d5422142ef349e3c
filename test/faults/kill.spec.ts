import { inspector } from '../support/redis-client';
import {
  FAST_BOUND_MS,
  RECOVERY_BOUND_MS,
  SLOW_BOUND_MS,
  expectBounded,
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

const fixture = useFaultFixture();

it('kill -9 mid-traffic: in-flight calls end within the deadline + 50 ms, later calls within 5 ms, hits resume after a restart', async () => {
  resetClock();
  const traffic = load(fixture.cache, 8);
  await sleep(300);
  const killedAt = now();
  await fixture.server.kill();
  await until(() => fixture.cache.client.status !== 'ready', 1000, 1);
  const noticedAt = now();
  await sleep(1000);
  const restartedAt = now();
  await fixture.server.restart();
  const recoveryMs = await until(() => hits(fixture.cache), 5000);
  await traffic.stop();

  const inFlight = traffic.calls.filter((call) => call.at < noticedAt && call.at + call.ms > killedAt);
  const later = traffic.calls.filter((call) => call.at >= noticedAt && call.at < restartedAt);
  const inFlightFigures = expectBounded(
    inFlight.map((call) => call.ms),
    SLOW_BOUND_MS,
  );
  const laterFigures = expectBounded(
    later.map((call) => call.ms),
    FAST_BOUND_MS,
  );
  expect(recoveryMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
  const inspect = await inspector(fixture.server.url);
  await expectConsistentBookkeeping(
    inspect,
    Array.from({ length: 7 }, (_, i) => `user-${i}`),
  );
  inspect.disconnect();
  recordFigures('kill', {
    noticedAfterMs: noticedAt - killedAt,
    inFlight: inFlightFigures,
    later: laterFigures,
    recoveryMs,
  });
}, 20_000);
