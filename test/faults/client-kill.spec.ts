import { FAIL_FAST_REDIS_OPTIONS } from '@wbot/redis-cache';
import {
  DEFAULT_DEADLINE_MS,
  RECOVERY_BOUND_MS,
  expectBounded,
  hits,
  load,
  now,
  recordFigures,
  resetClock,
  sleep,
  until,
  useFaultFixture,
} from './fault-harness';

const LOOPS = 4;

const fixture = useFaultFixture();

const fallbacks = () => fixture.cache.embeddings.stats().fallbacks + fixture.cache.messages.stats().fallbacks;

it('CLIENT KILL: calls made while the client reconnects wait for it and are served; only those in flight fall back', async () => {
  resetClock();
  const traffic = load(fixture.cache, LOOPS, 10);
  await sleep(300);
  const before = fallbacks();
  const closed = new Promise((resolve) => fixture.cache.client.once('close', resolve));
  const reconnected = new Promise((resolve) => closed.then(() => fixture.cache.client.once('ready', resolve)));
  const killedAt = now();
  // SKIPME yes (the default) spares the inspector's own connection
  const killed = (await fixture.inspect.call('CLIENT', 'KILL', 'TYPE', 'normal')) as number;
  await reconnected;
  const reconnectMs = now() - killedAt;
  const whileReconnecting = fallbacks() - before;
  const recoveryMs = await until(() => hits(fixture.cache), 5000);
  const afterReady = fallbacks();
  await sleep(500);
  await traffic.stop();

  const after = traffic.calls.filter((call) => call.at >= killedAt);
  // the calls in flight when the connection dropped fail, and their failures may open the breaker, which then
  // short-circuits calls until the connection is ready again; every other call made meanwhile waits for it
  const shortCircuited = after.filter((call) => call.breaker === 'open');
  const waited = after.filter((call) => call.readiness === 'connecting' && call.breaker !== 'open');
  expect(killed).toBe(1);
  // the reconnect takes 50 ms or more, while each of the loops calls every 10 ms or so
  expect(waited.length + shortCircuited.length).toBeGreaterThanOrEqual(LOOPS);
  // at most one call per loop was in flight on the killed connection
  expect(whileReconnecting).toBeLessThanOrEqual(LOOPS + shortCircuited.length);
  expect(fallbacks() - afterReady).toBe(0);
  expect(recoveryMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
  const latency = expectBounded(
    after.map((call) => call.ms),
    DEFAULT_DEADLINE_MS,
  );
  recordFigures('client-kill', {
    whileReconnecting,
    waitedForReconnect: waited.length,
    shortCircuited: shortCircuited.length,
    reconnectMs,
    recoveryMs,
    callsAfterKill: latency,
  });
}, 20_000);

it('the connection that replaces one killed with a command unanswered stays up past socketTimeout (ioredis#2147)', async () => {
  await fixture.inspect.call('CLIENT', 'PAUSE', '1000', 'WRITE');
  const write = fixture.cache.embeddings.cacheEmbedding('user', 'unanswered', [1]);
  await sleep(20);
  const reconnected = new Promise((resolve) => fixture.cache.client.once('ready', resolve));
  await fixture.inspect.call('CLIENT', 'KILL', 'TYPE', 'normal');
  expect(await write).toBe(false);
  await fixture.inspect.call('CLIENT', 'UNPAUSE');
  await reconnected;
  let closes = 0;
  const count = () => closes++;
  fixture.cache.client.on('close', count);
  await sleep((FAIL_FAST_REDIS_OPTIONS.socketTimeout as number) + 300);
  fixture.cache.client.off('close', count);
  expect(closes).toBe(0);
  expect(await fixture.cache.embeddings.cacheEmbedding('user', 'answered', [1])).toBe(true);
}, 10_000);
