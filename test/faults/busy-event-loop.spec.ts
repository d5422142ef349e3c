import {
  DEFAULT_DEADLINE_MS,
  SLACK_MS,
  VECTOR,
  recordFigures,
  sleep,
  useFaultFixture,
  type Cache,
} from './fault-harness';

/**
 * A late event loop is not a dead Redis. The app's own work blocks the event
 * loop for 250 ms, then leaves it free for 100 ms, over and over, while 16
 * readers read entries that are all cached. Replies arrive during each block;
 * the deadline timers are due before the poll phase reads them. They must be
 * served, not thrown away as misses, and the breaker must not open.
 */
const BLOCK_MS = 250;
const FREE_MS = 100;
const RUN_MS = 4000;
const READERS = 16;
const USERS = 8;
const CONVERSATION = Array.from({ length: 20 }, (_, i) => ({ id: `m${i}`, role: 'user', content: `message ${i}` }));

const fixture = useFaultFixture();

/**
 * Busy-waits BLOCK_MS, then yields for FREE_MS, until stopped: the app's
 * CPU-bound work. It blocks from the check phase, as a handler run from I/O
 * does, so the next loop iteration runs the expired timers before the poll.
 */
function blocker() {
  let running = true;
  const done = (async () => {
    while (running) {
      await new Promise((resolve) => setImmediate(resolve));
      const until = performance.now() + BLOCK_MS;
      while (performance.now() < until);
      await sleep(FREE_MS);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}

interface Reads {
  reads: number;
  misses: number;
  slowestMs: number;
  breakerOpened: boolean;
}

/** READERS concurrent readers of cached entries for `ms`; a read that gives null is a miss. */
async function readAll(cache: Cache, ms: number): Promise<Reads> {
  const result: Reads = { reads: 0, misses: 0, slowestMs: 0, breakerOpened: false };
  const end = performance.now() + ms;
  const reader = async (r: number) => {
    for (let i = r; performance.now() < end; i += READERS) {
      const started = performance.now();
      const value =
        i % 2 === 0
          ? await cache.embeddings.getCachedEmbedding(`user-${i % USERS}`, 'text')
          : await cache.messages.getCachedMessages(`conversation-${i % USERS}`);
      result.slowestMs = Math.max(result.slowestMs, performance.now() - started);
      result.reads++;
      if (value === null) result.misses++;
      if (cache.breaker.state !== 'closed') result.breakerOpened = true;
      // as requests arrive through I/O: a reader served at once must not starve the timers
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  await Promise.all(Array.from({ length: READERS }, (_, r) => reader(r)));
  return result;
}

beforeAll(async () => {
  for (let u = 0; u < USERS; u++) {
    expect(await fixture.cache.embeddings.cacheEmbedding(`user-${u}`, 'text', VECTOR)).toBe(true);
    expect(await fixture.cache.messages.cacheMessages(`conversation-${u}`, CONVERSATION)).toBe(true);
  }
});

it('a fully cached workload keeps hitting while the app blocks its event loop: misses ≤ 1%, the breaker stays closed', async () => {
  const fallbacksBefore = fixture.cache.embeddings.stats().fallbacks + fixture.cache.messages.stats().fallbacks;
  const busy = blocker();
  const reads = await readAll(fixture.cache, RUN_MS);
  await busy.stop();
  const fallbacks =
    fixture.cache.embeddings.stats().fallbacks + fixture.cache.messages.stats().fallbacks - fallbacksBefore;

  expect(reads.reads).toBeGreaterThan(READERS * 4);
  expect(reads.misses).toBeLessThanOrEqual(reads.reads * 0.01);
  expect(fallbacks).toBe(reads.misses);
  expect(reads.breakerOpened).toBe(false);
  expect(fixture.cache.breaker.state).toBe('closed');
  recordFigures('busy-event-loop', { blockMs: BLOCK_MS, freeMs: FREE_MS, readers: READERS, ...reads, fallbacks });
}, 20_000);

it('a frozen Redis still falls back within its bound while the same blocker runs', async () => {
  const busy = blocker();
  fixture.server.freeze();
  try {
    const reads = await readAll(fixture.cache, 1500);
    // a call that started just before a block waits the block out before its timer can run
    expect(reads.slowestMs).toBeLessThanOrEqual(DEFAULT_DEADLINE_MS + BLOCK_MS + SLACK_MS);
    expect(reads.misses).toBe(reads.reads);
    expect(reads.reads).toBeGreaterThan(READERS);
    recordFigures('busy-event-loop-frozen', { blockMs: BLOCK_MS, ...reads });
  } finally {
    fixture.server.thaw();
    await busy.stop();
  }
}, 20_000);
