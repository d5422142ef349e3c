'use strict';
// The embedding suite: for each system, bytes per entry over a fill, then
// hits and writes with 32 in flight; for ours, also one 100-text batch read
// against 100 sequential single reads.

const { measureDecodeVariants } = require('./lib/decode-variants');
const { bytesPerEntry, measure } = require('./lib/harness');
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
  { key: 'raw', label: 'raw ioredis GET/SET float32', create: systems.raw },
  { key: 'langchain', label: 'LangChain.js CacheBackedEmbeddings', create: systems.langchain },
  { key: 'cacheManager', label: 'cache-manager 7 + @keyv/redis', create: systems.cacheManager },
];

const anyFilled = () => Math.floor(Math.random() * FILLED);

/** One batch read of 100 cached texts against the same 100 read one after another, one caller. */
async function batchVersusSequential(cache, admin) {
  const window = () => {
    const first = Math.floor(Math.random() * (FILLED - BATCH));
    return Array.from({ length: BATCH }, (_, k) => text(first + k));
  };
  const batch = await measure(
    `ours getCachedEmbeddings x${BATCH}`,
    async () => (await cache.getCachedEmbeddings(systems.USER, window())).every((v) => v !== null),
    admin,
    { inFlight: 1 },
  );
  const sequential = await measure(
    `ours ${BATCH} sequential getCachedEmbedding`,
    async () => {
      for (const t of window()) {
        if ((await cache.getCachedEmbedding(systems.USER, t)) === null) return false;
      }
      return true;
    },
    admin,
    { inFlight: 1 },
  );
  return { size: BATCH, batch, sequential };
}

async function runEmbeddings(url, admin) {
  const results = { filled: FILLED, systems: {}, decode: measureDecodeVariants() };
  for (const { key, label, create } of SYSTEMS) {
    console.log(`embeddings: ${label}`);
    await admin.flushall();
    const system = await create(url);
    try {
      const bytes = await bytesPerEntry(admin, FILLED, system.fill);
      console.log(`  bytes per entry: ${Math.round(bytes)}`);
      const hits = await measure(`${label} hit`, () => system.hit(anyFilled()), admin);
      let next = FILLED;
      const writes = await measure(`${label} write`, () => system.write(next++), admin);
      if (!(await system.hit(next - 1))) throw new Error(`${label}: the last write cannot be read back`);
      if (key === 'ours') results.batch = await batchVersusSequential(system.cache, admin);
      results.systems[key] = { label, bytesPerEntry: bytes, hits, writes, stats: system.stats?.() };
    } finally {
      await system.close();
    }
  }
  return results;
}

module.exports = { runEmbeddings };
