'use strict';
// Entry point: runs both suites in one run against the private Redis that
// run.sh started, then renders docs/benchmarks.md.

const { readFileSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const { runEmbeddings } = require('./embeddings');
const { runMessages } = require('./messages');
const { runNearCache } = require('./near-cache');
const { timings } = require('./lib/harness');
const { plainClient, redisUrl, serverInfo } = require('./lib/redis');
const { writeReport } = require('./report');
const { stealMeter } = require('./lib/steal');

const LIBRARY = join(__dirname, '..', 'libs', 'redis-cache');
const RESULTS = join(os.tmpdir(), 'wbot-bench-results.json');

/** Read from disk: some packages do not export their package.json. */
function packageVersion(name) {
  return JSON.parse(readFileSync(join(__dirname, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/** The ioredis the library itself loads, and the raw floors with it; the bench's own (5) is the peers'. */
function libraryIoredisVersion() {
  return require(require.resolve('ioredis/package.json', { paths: [LIBRARY] })).version;
}

async function main() {
  const url = redisUrl();
  const admin = await plainClient(url);
  try {
    const redis = await serverInfo(admin);
    const steal = stealMeter();
    const machine = {
      date: new Date().toISOString(),
      loadStart: os.loadavg()[0],
      // the machine's, not this process's: taskset leaves it one
      nproc: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      redis: redis.version,
      allocator: redis.allocator,
      pinning: process.env.BENCH_PINNING,
      packages: {
        'ioredis (library, raw floors)': libraryIoredisVersion(),
        'ioredis (LangChain.js store)': packageVersion('ioredis'),
        ...Object.fromEntries(
          [
            'redis',
            '@langchain/core',
            '@langchain/classic',
            '@langchain/community',
            '@langchain/redis',
            'cache-manager',
            'keyv',
            '@keyv/redis',
          ].map((name) => [name, packageVersion(name)]),
        ),
      },
    };
    const started = Date.now();
    const embeddings = await runEmbeddings(url, admin);
    const messages = await runMessages(url, admin);
    const nearCache = await runNearCache(url, admin);
    await admin.flushall();
    machine.loadEnd = os.loadavg()[0];
    machine.steal = steal();
    const results = {
      machine,
      timings: timings(),
      seconds: Math.round((Date.now() - started) / 1000),
      embeddings,
      messages,
      nearCache,
    };
    writeFileSync(RESULTS, JSON.stringify(results, null, 2));
    const report = await writeReport(results);
    console.log(`wrote ${report} (raw figures: ${RESULTS})`);
  } finally {
    await admin.quit();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
