import { waitUntilReady } from '../support/redis-client';
import { RedisServer } from '../support/redis-server';
import {
  RECOVERY_BOUND_MS,
  expectBoundedByPath,
  heapAfterGc,
  hits,
  load,
  openCache,
  recordFigures,
  sleep,
  until,
  type Cache,
} from './fault-harness';

const FLAP_SECONDS = 20;
/** Heap after the storm, after GC, may exceed the heap before by at most this. */
const HEAP_MARGIN_BYTES = 2 * 1024 * 1024;
const EVENTS = ['error', 'ready', 'close', 'end', 'connect', 'reconnecting'];

let server: RedisServer;
let cache: Cache;

beforeAll(async () => {
  server = await RedisServer.start();
  cache = openCache(server.url);
  await waitUntilReady(cache.client);
});

afterAll(async () => {
  await cache.close();
  await server.stop();
});

async function flap(): Promise<void> {
  await server.kill();
  await sleep(1000);
  await server.restart();
  await sleep(1000);
}

const listeners = () => EVENTS.map((event) => cache.client.listenerCount(event));

it(`flapping (down 1 s, up 1 s, for ${FLAP_SECONDS} s) under constant load: bounded latency, no listener or heap growth`, async () => {
  // one flap first, so that the failure and reconnect paths are compiled and their caches filled
  const warmup = load(cache, 4, 2);
  await flap();
  await until(() => hits(cache), 5000);
  await warmup.stop();
  warmup.calls.length = 0;
  const listenersBefore = listeners();
  const processListenersBefore = process.listenerCount('unhandledRejection');
  const heapBefore = await heapAfterGc();

  const traffic = load(cache, 4, 2);
  for (let second = 0; second < FLAP_SECONDS; second += 2) await flap();
  const recoveryMs = await until(() => hits(cache), 5000);
  await traffic.stop();

  const latency = expectBoundedByPath(traffic.calls);
  // the call records would otherwise count as growth
  traffic.calls.length = 0;
  const heapAfter = await heapAfterGc();
  expect(recoveryMs).toBeLessThanOrEqual(RECOVERY_BOUND_MS);
  expect(listeners()).toEqual(listenersBefore);
  expect(process.listenerCount('unhandledRejection')).toBe(processListenersBefore);
  expect(heapAfter - heapBefore).toBeLessThanOrEqual(HEAP_MARGIN_BYTES);
  recordFigures('flapping', { ...latency, recoveryMs, heapBeforeBytes: heapBefore, heapAfterBytes: heapAfter });
}, 60_000);
