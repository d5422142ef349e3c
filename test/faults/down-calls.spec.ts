import { RedisServer } from '../support/redis-server';
import {
  FAST_BOUND_MS,
  expectBounded,
  heapAfterGc,
  mixedCall,
  openCache,
  recordFigures,
  type Cache,
} from './fault-harness';

const CALLS = 10_000;
/** Heap after the calls, after GC, may exceed the heap before by at most this. */
const HEAP_MARGIN_BYTES = 1024 * 1024;

let server: RedisServer;
let cache: Cache;
const unhandled: unknown[] = [];
const record = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  server = await RedisServer.start();
  await server.kill();
  cache = openCache(server.url);
  process.on('unhandledRejection', record);
});

afterAll(async () => {
  process.off('unhandledRejection', record);
  await cache.close();
  await server.stop();
});

it(`${CALLS} calls while Redis is down: each gives its fallback within 5 ms, no unhandled rejection, no heap growth`, async () => {
  // warm up, so that lazily compiled code and caches are in the heap before it is measured
  for (let i = 0; i < 1000; i++) await mixedCall(cache, i);
  const heapBefore = await heapAfterGc();
  const latencies = new Float64Array(CALLS);
  let fallbacks = 0;
  for (let i = 0; i < CALLS; i++) {
    const started = performance.now();
    const result = await mixedCall(cache, i);
    latencies[i] = performance.now() - started;
    if (result === null || result === false) fallbacks++;
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  const heapAfter = await heapAfterGc();

  expect(fallbacks).toBe(CALLS);
  expect(unhandled).toEqual([]);
  expect(heapAfter - heapBefore).toBeLessThanOrEqual(HEAP_MARGIN_BYTES);
  const latency = expectBounded(Array.from(latencies), FAST_BOUND_MS);
  recordFigures('down-calls', { calls: CALLS, latency, heapBeforeBytes: heapBefore, heapAfterBytes: heapAfter });
}, 30_000);
