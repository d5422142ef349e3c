'use strict';
// The near cache suite: ours with `embeddings.nearCache` on, against the raw
// ioredis GET floor and against ours without it, on the same Redis, in the same
// rounds. Each round Redis is flushed and every system filled again; then
// - hot-set hits: the 100 texts of the hot set, all held by the near cache, read
//   at random, against the floor's GET + decode of the same vectors;
// - memory: a near cache of NEAR_MAX_BYTES reads every filled text, more than it
//   can hold; its bytes (as it counts them) against its maxBytes; in the first
//   round, the process's heap growth (after GC) per entry against what it counts;
// - mixed: 80% of the reads on the 5% of the texts that are hot, the others on the
//   rest, with the near cache (sized for twice the hot set) on and off: ops/s and
//   Redis CPU per read.
// Run alone (node bench/near-cache.js, BENCH_REDIS_URL set, after npm run build:lib), it prints its figures and
// its targets.

const v8 = require('node:v8');
const vm = require('node:vm');
const { measure, timings } = require('./lib/harness');
const { acrossRounds, rotated, summarize } = require('./lib/rounds');
const systems = require('./lib/embedding-systems');
const { DIMENSIONS, text } = require('./lib/fixtures');

const FILLED = 2000;
const HOT = FILLED / 20;
const HOT_SHARE = 0.8;
/** What one entry of the fixtures counts for in the near cache: the vector's doubles, the text's UTF-16, the entry. */
const ENTRY_BYTES = DIMENSIONS * 8 + text(0).length * 2 + 400;
/** The mixed case's near cache: room for twice the hot set, so that the cold reads churn the other half. */
const MIXED_MAX_BYTES = 2 * HOT * ENTRY_BYTES;
/** The memory case's: a third of the filled texts. */
const NEAR_MAX_BYTES = Math.floor(FILLED / 3) * ENTRY_BYTES;

const anyHot = () => Math.floor(Math.random() * HOT);
const mixedText = () => (Math.random() < HOT_SHARE ? anyHot() : HOT + Math.floor(Math.random() * (FILLED - HOT)));

/** `global.gc`, made available at run time (the bench's Node runs without --expose-gc). */
function collector() {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc');
}

/** Waits until the near cache of `system` serves: its channel subscribed and answered. */
async function serving(system) {
  const started = Date.now();
  while (!system.cache.nearCacheUsage().serving) {
    if (Date.now() - started > 5000) throw new Error('near cache: not serving within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads texts `from` to `to - 1` once each, in batches: each read from Redis fills the near cache. */
async function readAll(system, from, to) {
  for (let first = from; first < to; first += 100) {
    const texts = Array.from({ length: Math.min(100, to - first) }, (_, k) => text(first + k));
    await system.cache.getCachedEmbeddings(system.user, texts);
  }
}

/** The heap growth (after GC) per entry of a near cache of `maxBytes` filled by reading every text, and what it counts. */
async function heapPerEntry(url, admin, maxBytes) {
  const gc = collector();
  const fresh = await systems.ours(url, { enableAutoPipelining: false }, { nearCache: { maxBytes } });
  try {
    await serving(fresh);
    await fresh.fill(FILLED);
    gc();
    const before = process.memoryUsage().heapUsed;
    await readAll(fresh, 0, FILLED);
    gc();
    const after = process.memoryUsage().heapUsed;
    const { entries, bytes } = fresh.cache.nearCacheUsage();
    return { entries, heapPerEntry: (after - before) / entries, countedPerEntry: bytes / entries };
  } finally {
    await fresh.close();
  }
}

/** Every near hit's share of `run`'s reads of `system`, from its stats before and after. */
async function withNearShare(system, run) {
  if (!system.cache) return run();
  const before = system.cache.stats();
  const result = await run();
  const after = system.cache.stats();
  const reads = after.hits + after.misses - before.hits - before.misses;
  return { ...result, nearShare: (after.nearHits - before.nearHits) / reads };
}

async function round(live, order, r, admin) {
  await admin.flushall();
  for (const s of order) {
    // a flush announces nothing: each near cache forgets its user through a clear, as an app would
    await s.system.cache?.clearUser(s.system.user);
    await s.system.fill(FILLED);
  }
  const { hot, raw, memory, mixed, off } = Object.fromEntries(live.map((s) => [s.key, s]));

  await readAll(hot.system, 0, HOT);
  for (const s of rotated([hot, raw], r, 2)) {
    s.hits.push(
      await withNearShare(s.system, () => measure(`${s.label} hot hit`, () => s.system.hit(anyHot()), admin)),
    );
  }

  await readAll(memory.system, 0, FILLED);
  const usage = memory.system.cache.nearCacheUsage();
  memory.usage.push(usage);
  console.log(`  ${memory.label}: ${usage.entries} entries, ${usage.bytes} of ${usage.maxBytes} bytes`);

  for (const s of rotated([mixed, off], r, 2)) {
    s.mixed.push(
      await withNearShare(s.system, () => measure(`${s.label} mixed 80/5`, () => s.system.hit(mixedText()), admin)),
    );
  }
}

const SYSTEMS = [
  { key: 'hot', label: 'ours, near cache on', create: (url) => near(url, MIXED_MAX_BYTES) },
  { key: 'raw', label: 'raw ioredis GET float32', create: systems.raw },
  { key: 'memory', label: 'ours, near cache of a third', create: (url) => near(url, NEAR_MAX_BYTES) },
  { key: 'mixed', label: 'ours, near cache on', create: (url) => near(url, MIXED_MAX_BYTES) },
  {
    key: 'off',
    label: 'ours, near cache off',
    create: (url) => systems.ours(url, { enableAutoPipelining: false }),
  },
];

async function near(url, maxBytes) {
  const system = await systems.ours(url, { enableAutoPipelining: false }, { nearCache: { maxBytes } });
  await serving(system);
  return system;
}

async function runNearCache(url, admin) {
  const { rounds } = timings();
  const live = [];
  try {
    for (const { key, label, create } of SYSTEMS) {
      live.push({ key, label, system: await create(url), hits: [], mixed: [], usage: [] });
    }
    for (let r = 0; r < rounds; r++) {
      const order = rotated(live, r, rounds);
      console.log(`near cache, round ${r + 1} of ${rounds}: ${order.map((s) => s.key).join(', ')}`);
      await round(live, order, r, admin);
    }
    const byKey = Object.fromEntries(live.map((s) => [s.key, s]));
    const share = (results) => summarize(results.map((r) => r.nearShare));
    const redisCpu = (results) => results.map((r) => r.redisCpuUsPerOp);
    return {
      filled: FILLED,
      hotSet: HOT,
      hotShare: HOT_SHARE,
      entryBytes: ENTRY_BYTES,
      hot: {
        near: { label: byKey.hot.label, ...acrossRounds(byKey.hot.hits), nearShare: share(byKey.hot.hits) },
        raw: { label: byKey.raw.label, ...acrossRounds(byKey.raw.hits) },
      },
      memory: {
        maxBytes: NEAR_MAX_BYTES,
        rounds: byKey.memory.usage,
        ...(await heapPerEntry(url, admin, NEAR_MAX_BYTES)),
      },
      mixed: {
        maxBytes: MIXED_MAX_BYTES,
        on: {
          label: byKey.mixed.label,
          ...acrossRounds(byKey.mixed.mixed),
          nearShare: share(byKey.mixed.mixed),
          redisCpuRounds: redisCpu(byKey.mixed.mixed),
        },
        off: { label: byKey.off.label, ...acrossRounds(byKey.off.mixed), redisCpuRounds: redisCpu(byKey.off.mixed) },
      },
    };
  } finally {
    await Promise.all(live.map((s) => s.system.close()));
  }
}

module.exports = { runNearCache };

if (require.main === module) {
  const { TARGETS, evaluateTargets } = require('./targets');
  const { plainClient, redisUrl } = require('./lib/redis');
  (async () => {
    const url = redisUrl();
    const admin = await plainClient(url);
    try {
      const nearCache = await runNearCache(url, admin);
      console.log(JSON.stringify({ ...nearCache.memory, rounds: undefined }, null, 2));
      if (process.env.BENCH_NEAR_RESULTS)
        require('node:fs').writeFileSync(process.env.BENCH_NEAR_RESULTS, JSON.stringify({ nearCache }));
      for (const target of evaluateTargets(
        { nearCache },
        TARGETS.filter((t) => t.suite === 'nearCache'),
      )) {
        const { value, min, max } = target.measured;
        console.log(
          `${target.label}: ${value.toFixed(3)} (${min.toFixed(3)}-${max.toFixed(3)}) ${target.met ? 'MET' : 'MISSED'}`,
        );
      }
    } finally {
      await admin.quit();
    }
  })().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
