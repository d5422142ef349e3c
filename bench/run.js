'use strict';
// Entry point: runs every suite in one run against the private Redis that
// run.sh started, then renders docs/benchmarks.md. BENCH_SUITES=responses (a
// comma-separated list of suites) runs only those, for a quick check: it prints
// their figures and targets, and writes no report.

const { readFileSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');
const { timings } = require('./lib/harness');
const { targetBound, xRange } = require('./lib/format');
const { plainClient, redisUrl, serverInfo } = require('./lib/redis');
const { writeReport } = require('./report');
const { stealMeter } = require('./lib/steal');
const { INFORMATION, TARGETS, evaluateInformation, evaluateTargets } = require('./targets');

/** Each suite's entry, loaded only when it runs: a suite's peers need not load for a quick check of another. */
const SUITES = {
  embeddings: () => require('./embeddings').runEmbeddings,
  batchNetem: () => require('./batch-netem').runBatchNetem,
  messages: () => require('./messages').runMessages,
  nearCache: () => require('./near-cache').runNearCache,
  responses: () => require('./responses').runResponses,
};

/** The suites BENCH_SUITES names, or undefined for all of them. */
function selectedSuites() {
  const names = process.env.BENCH_SUITES?.split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (!names?.length) return undefined;
  const unknown = names.filter((name) => !(name in SUITES));
  if (unknown.length)
    throw new Error(`BENCH_SUITES: no suite ${unknown.join(', ')} (${Object.keys(SUITES).join(', ')})`);
  return names;
}

const LIBRARY = join(__dirname, '..', 'libs', 'redis-cache');
const RESULTS = join(os.tmpdir(), 'wbot-bench-results.json');

/** Read from disk: some packages do not export their package.json. */
function packageVersion(name) {
  return JSON.parse(readFileSync(join(__dirname, 'node_modules', name, 'package.json'), 'utf8')).version;
}

/** A package of the repository's own install, which the response suite uses (ai). */
function rootPackageVersion(name) {
  return JSON.parse(readFileSync(join(__dirname, '..', 'node_modules', name, 'package.json'), 'utf8')).version;
}

/** The ioredis the library itself loads, and the raw floors with it; the bench's own (5) is the peers'. */
function libraryIoredisVersion() {
  return require(require.resolve('ioredis/package.json', { paths: [LIBRARY] })).version;
}

/** A quick check of some suites: their figures were printed as they ran; their targets, here. No report. */
function printTargets(results, suites) {
  const ran = (row) => suites.includes(row.suite);
  for (const t of evaluateTargets(results, TARGETS.filter(ran))) {
    const verdict = t.met ? 'MET   ' : 'MISSED';
    const few = t.rounds !== undefined && t.measured.values.length < t.rounds;
    const rounds = few ? `, only ${t.measured.values.length} rounds` : '';
    console.log(`${verdict} ${t.area}, ${t.label}: ${xRange(t.measured, t.unit)} (target ${targetBound(t)}${rounds})`);
  }
  for (const row of evaluateInformation(results, INFORMATION.filter(ran))) {
    console.log(`INFO   ${row.area}, ${row.label}: ${xRange(row.measured, row.unit)} (no target: ${row.why})`);
  }
}

async function main() {
  const url = redisUrl();
  const only = selectedSuites();
  const admin = await plainClient(url);
  try {
    if (only) {
      const results = {};
      for (const name of only) results[name] = await SUITES[name]()(url, admin);
      await admin.flushall();
      writeFileSync(RESULTS, JSON.stringify(results, null, 2));
      printTargets(results, only);
      console.log(`BENCH_SUITES=${only.join(',')}: no report written (raw figures: ${RESULTS})`);
      return;
    }
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
        ai: rootPackageVersion('ai'),
      },
    };
    const started = Date.now();
    const embeddings = await SUITES.embeddings()(url, admin);
    const batchNetem = await SUITES.batchNetem()(url, admin);
    const messages = await SUITES.messages()(url, admin);
    const nearCache = await SUITES.nearCache()(url, admin);
    const responses = await SUITES.responses()(url, admin);
    await admin.flushall();
    machine.loadEnd = os.loadavg()[0];
    machine.steal = steal();
    const results = {
      machine,
      timings: timings(),
      seconds: Math.round((Date.now() - started) / 1000),
      embeddings,
      batchNetem,
      messages,
      nearCache,
      responses,
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
