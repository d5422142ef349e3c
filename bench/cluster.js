'use strict';
// node bench/cluster.js (after `npm run build:lib`): embedding hits/s on a
// one-master Redis Cluster against a three-master one, in the same run, through
// the library as shipped (createCacheClient with the cluster fail-fast options);
// then how fast calls for a killed master's keys fall back. Starts and stops its
// own servers; writes its section of docs/benchmarks.md between the cluster markers.

const { once } = require('node:events');
const os = require('node:os');
const { join } = require('node:path');
const {
  DEFAULT_DEADLINE_MS,
  EmbeddingCacheService,
  FAIL_FAST_REDIS_OPTIONS,
  createCacheClient,
} = require('../libs/redis-cache/dist');
const { embeddingKeys } = require('../libs/redis-cache/dist/keys');
const { writeSection } = require('./lib/doc-section');
const { timings } = require('./lib/harness');
const { ready } = require('./lib/redis');
const { startCluster } = require('./lib/servers');

const DOC = join(__dirname, '..', 'docs', 'benchmarks.md');
const START = '<!-- cluster:start -->';
const END = '<!-- cluster:end -->';
const IN_FLIGHT = 32;
const USERS = 300;
const TEXTS_PER_USER = 10;
const DIMENSIONS = 1536;
const FALLBACK_MS = 2000;

function vector(seed) {
  return Array.from({ length: DIMENSIONS }, (_, i) => Math.sin(seed * 31 + i));
}

async function connect(nodes) {
  const client = createCacheClient({ cluster: { nodes } });
  try {
    await ready(client);
    await Promise.all(client.nodes('master').map((node) => ready(node)));
    return client;
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

async function redisCpuSeconds(masters) {
  let total = 0;
  for (const { port } of masters) {
    const admin = await ready(createCacheClient({ url: `redis://127.0.0.1:${port}` }));
    const info = await admin.info('cpu');
    admin.disconnect();
    const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)[1]);
    total += field('used_cpu_user') + field('used_cpu_sys');
  }
  return total;
}

/** Runs `op` from IN_FLIGHT workers for `ms`; returns successful ops and failures. */
async function drive(op, ms) {
  let ok = 0;
  let failed = 0;
  const end = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < end) {
      if (await op()) ok++;
      else failed++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return { ok, failed, seconds: (performance.now() - started) / 1000 };
}

async function hitsPerSecond(size) {
  const cluster = await startCluster(size);
  const client = await connect(cluster.nodes);
  try {
    const embeddings = new EmbeddingCacheService(client, { maxEntriesPerUser: TEXTS_PER_USER });
    for (let u = 0; u < USERS; u++) {
      const entries = Array.from({ length: TEXTS_PER_USER }, (_, t) => ({ text: `t${t}`, embedding: vector(u + t) }));
      if (!(await embeddings.cacheEmbeddings(`user-${u}`, entries))) throw new Error('a fill fell back');
    }
    let i = 0;
    const op = async () => {
      i = (i + 7919) % (USERS * TEXTS_PER_USER);
      return (await embeddings.getCachedEmbedding(`user-${i % USERS}`, `t${i % TEXTS_PER_USER}`)) !== null;
    };
    const { warmupMs, onceMs } = timings();
    await drive(op, warmupMs);
    const cpuBefore = await redisCpuSeconds(cluster.masters);
    const nodeBefore = process.cpuUsage();
    const run = await drive(op, onceMs);
    const node = process.cpuUsage(nodeBefore);
    const redisCpu = (await redisCpuSeconds(cluster.masters)) - cpuBefore;
    const result = {
      masters: size,
      opsPerSec: run.ok / run.seconds,
      failed: run.failed,
      nodeCpuShare: (node.user + node.system) / 1e6 / run.seconds,
      redisCpuShare: redisCpu / run.seconds,
    };
    console.log(
      `  ${size} master(s): ${Math.round(result.opsPerSec)} hits/s, ${run.failed} failed, ` +
        `Node CPU ${result.nodeCpuShare.toFixed(2)} cores, Redis CPU ${result.redisCpuShare.toFixed(2)} cores`,
    );
    return result;
  } finally {
    client.disconnect();
    await cluster.stop();
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Kills one of three masters and times the calls for its keys and for the others' keys. */
async function fallbackLatency() {
  const cluster = await startCluster(3);
  const client = await connect(cluster.nodes);
  try {
    const embeddings = new EmbeddingCacheService(client, {}, { logger: { warn: () => undefined } });
    const doomed = cluster.masters[0];
    const usersOf = { lost: [], kept: [] };
    for (let u = 0; usersOf.lost.length < 20 || usersOf.kept.length < 20; u++) {
      const userId = `user-${u}`;
      const slot = Number(await client.cluster('KEYSLOT', embeddingKeys(userId).vectors));
      const port = Number(client.slots[slot][0].split(':')[1]);
      (port === doomed.port ? usersOf.lost : usersOf.kept).push(userId);
      await embeddings.cacheEmbedding(userId, 'hello', [1, 2, 3]);
    }
    const gone = once(client, '-node');
    await doomed.stop();
    await gone;
    const samples = { lost: [], kept: [] };
    const outcomes = { lost: { ok: 0, fallback: 0 }, kept: { ok: 0, fallback: 0 } };
    const end = performance.now() + FALLBACK_MS;
    for (let i = 0; performance.now() < end; i++) {
      for (const side of ['lost', 'kept']) {
        const userId = usersOf[side][i % usersOf[side].length];
        const t0 = performance.now();
        const value = await embeddings.getCachedEmbedding(userId, 'hello');
        samples[side].push(performance.now() - t0);
        outcomes[side][value ? 'ok' : 'fallback']++;
      }
    }
    const summary = {};
    for (const side of ['lost', 'kept']) {
      const sorted = samples[side].sort((a, b) => a - b);
      summary[side] = {
        ...outcomes[side],
        p50Ms: percentile(sorted, 50),
        p99Ms: percentile(sorted, 99),
        maxMs: sorted[sorted.length - 1],
      };
      console.log(
        `  keys ${side === 'lost' ? 'of the killed master' : 'of the others'}: ${outcomes[side].ok} hits, ` +
          `${outcomes[side].fallback} fallbacks, p50 ${summary[side].p50Ms.toFixed(2)} ms, ` +
          `p99 ${summary[side].p99Ms.toFixed(2)} ms, max ${summary[side].maxMs.toFixed(2)} ms`,
      );
    }
    return summary;
  } finally {
    client.disconnect();
    await cluster.stop();
  }
}

function section(one, three, fallback) {
  const ms = (value) => value.toFixed(2);
  const ratio = three.opsPerSec / one.opsPerSec;
  const { warmupMs, onceMs } = timings();
  return [
    '## Redis Cluster',
    '',
    `Generated by \`node bench/cluster.js\` (${new Date().toISOString()}, ${os.availableParallelism()} CPUs, ` +
      `load average ${os.loadavg()[0].toFixed(2)} at the end). Embedding hits (1536-d float32, ${USERS} users × ` +
      `${TEXTS_PER_USER} texts spread over the slots) through \`createCacheClient({ cluster })\`, one Node process, ` +
      `${IN_FLIGHT} requests in flight, ${warmupMs} ms warm-up then ${onceMs} ms, on a private cluster of ` +
      'one master (all 16384 slots) and then of three masters, in the same run.',
    '',
    '| Masters | Hits/s | Failed | Node CPU (cores) | Redis CPU, all masters (cores) |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...[one, three].map(
      (row) =>
        `| ${row.masters} | ${Math.round(row.opsPerSec).toLocaleString('en-US')} | ${row.failed} | ` +
        `${row.nodeCpuShare.toFixed(2)} | ${row.redisCpuShare.toFixed(2)} |`,
    ),
    '',
    `**Scaling: three masters give ${ratio.toFixed(2)}× the hits/s of one.** On this machine the client and ` +
      'all the masters share the same cores, and the one Node process decoding vectors is the bottleneck (see its ' +
      'CPU above), so more masters cannot add throughput here; on separate machines, with as many client processes ' +
      'as the load needs, the masters divide the Redis work by the slots they serve.',
    '',
    `Then one of the three masters is killed (SIGKILL, no replica) and ${FALLBACK_MS} ms of sequential reads ` +
      'alternate between users whose keys it served and users on the two others (default options: ' +
      `${DEFAULT_DEADLINE_MS} ms deadline, ${FAIL_FAST_REDIS_OPTIONS.commandTimeout} ms commandTimeout):`,
    '',
    '| Keys of | Hits | Fallbacks | p50 (ms) | p99 (ms) | max (ms) |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...[
      ['the killed master', fallback.lost],
      ['the other masters', fallback.kept],
    ].map(
      ([label, row]) =>
        `| ${label} | ${row.ok} | ${row.fallback} | ${ms(row.p50Ms)} | ${ms(row.p99Ms)} | ${ms(row.maxMs)} |`,
    ),
  ].join('\n');
}

async function main() {
  console.log('cluster: embedding hits on 1 master, then on 3');
  const one = await hitsPerSecond(1);
  const three = await hitsPerSecond(3);
  console.log('cluster: one of three masters killed');
  const fallback = await fallbackLatency();
  await writeSection(DOC, START, END, section(one, three, fallback));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
