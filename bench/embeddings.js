'use strict';
// The embedding suite. Every system is created once; then, each round, Redis is
// flushed and every system filled again (so that each round starts from the same
// data, the last round's writes gone), and the hit case runs for every system,
// then the write case, in the round's order; then ours' 100-text batch read
// against 100 sequential single reads. Bytes per entry come from the first fill.

const { measureDecodeVariants } = require('./lib/decode-variants');
const { bytesPerEntry, measure, timings } = require('./lib/harness');
const { acrossRounds, rotated } = require('./lib/rounds');
const systems = require('./lib/embedding-systems');
const { text } = require('./lib/fixtures');

/** Entries filled before the hit case; also the sample for bytes per entry. */
const FILLED = 2000;
const BATCH = 100;

const SYSTEMS = [
  {
    key: 'ours',
    label: 'ours (autopipelining off)',
    create: (url) => systems.ours(url, { enableAutoPipelining: false }),
  },
  {
    key: 'oursAuto',
    label: 'ours (autopipelining on)',
    create: (url) => systems.ours(url, { enableAutoPipelining: true }),
  },
  {
    key: 'oursFloat16',
    label: 'ours float16 (autopipelining off)',
    create: (url) => systems.ours(url, { enableAutoPipelining: false }, { precision: 'float16' }),
  },
  {
    key: 'oursNoOtel',
    label: 'ours, without @opentelemetry/api (autopipelining off)',
    create: (url) => systems.ours(url, { enableAutoPipelining: false }, { withoutOpenTelemetry: true }),
  },
  { key: 'raw', label: 'raw ioredis GET/SET float32', create: systems.raw },
  { key: 'langchain', label: 'LangChain.js CacheBackedEmbeddings', create: systems.langchain },
  { key: 'cacheManager', label: 'cache-manager 7 + @keyv/redis', create: systems.cacheManager },
];

const anyFilled = () => Math.floor(Math.random() * FILLED);

/** One batch read of 100 cached texts against the same 100 read one after another, one caller. */
async function batchVersusSequential({ cache, user }, admin) {
  const window = () => {
    const first = Math.floor(Math.random() * (FILLED - BATCH));
    return Array.from({ length: BATCH }, (_, k) => text(first + k));
  };
  const batch = await measure(
    `ours getCachedEmbeddings x${BATCH}`,
    async () => (await cache.getCachedEmbeddings(user, window())).every((v) => v !== null),
    admin,
    { inFlight: 1 },
  );
  const sequential = await measure(
    `ours ${BATCH} sequential getCachedEmbedding`,
    async () => {
      for (const t of window()) {
        if ((await cache.getCachedEmbedding(user, t)) === null) return false;
      }
      return true;
    },
    admin,
    { inFlight: 1 },
  );
  return { batch, sequential };
}

/** One round: fill every system, then each case for every system in `order`; the results go to each system's lists. */
async function round(live, order, admin) {
  await admin.flushall();
  for (const s of live) {
    const bytes = await bytesPerEntry(admin, FILLED, s.system.fill);
    s.bytesPerEntry ??= bytes;
  }
  for (const s of order) s.hits.push(await measure(`${s.label} hit`, () => s.system.hit(anyFilled()), admin));
  for (const s of order) {
    let next = FILLED;
    s.writes.push(await measure(`${s.label} write`, () => s.system.write(next++), admin));
    if (!(await s.system.hit(next - 1))) throw new Error(`${s.label}: the last write cannot be read back`);
  }
}

async function runEmbeddings(url, admin) {
  const { rounds } = timings();
  const results = { filled: FILLED, systems: {}, decode: measureDecodeVariants() };
  const live = [];
  const batches = [];
  try {
    for (const { key, label, create } of SYSTEMS) {
      live.push({ key, label, system: await create(url), hits: [], writes: [] });
    }
    const ours = live.find((s) => s.key === 'ours');
    for (let r = 0; r < rounds; r++) {
      const order = rotated(live, r, rounds);
      console.log(`embeddings, round ${r + 1} of ${rounds}: ${order.map((s) => s.key).join(', ')}`);
      await round(live, order, admin);
      batches.push(await batchVersusSequential(ours.system, admin));
    }
    for (const { key, label, system, bytesPerEntry: bytes, hits, writes } of live) {
      console.log(`  ${label}: bytes per entry ${Math.round(bytes)}`);
      results.systems[key] = {
        label,
        bytesPerEntry: bytes,
        hits: acrossRounds(hits),
        writes: acrossRounds(writes),
        stats: system.stats?.(),
      };
    }
    results.batch = {
      size: BATCH,
      batch: acrossRounds(batches.map((b) => b.batch)),
      sequential: acrossRounds(batches.map((b) => b.sequential)),
    };
  } finally {
    await Promise.all(live.map((s) => s.system.close()));
  }
  return results;
}

module.exports = { BATCH, FILLED, batchVersusSequential, runEmbeddings };
