'use strict';
// Renders docs/benchmarks.md from one run's results. Run alone, it re-renders
// from a saved results file: node bench/report.js /tmp/wbot-bench-results.json

const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { evaluateTargets } = require('./targets');

const BAR_WIDTH = 40;

const k = (n) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : `${Math.round(n)}`);
const int = (n) => Math.round(n).toLocaleString('en-US');
const x = (n) => `${n.toFixed(2)}x`;
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const us = (n) => `${Math.round(n)} µs`;
const ms = (n) => `${n.toFixed(2)} ms`;
/** Share of one core a side used during a case: ops/s times CPU per op. */
const busy = (result, side) => `${Math.round((result.opsPerSec * result[`${side}CpuUsPerOp`]) / 1e4)}%`;
const load = (result) => `Node was busy ${busy(result, 'node')} of a core and Redis ${busy(result, 'redis')}`;

function table(header, rows) {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

function barChart(title, entries) {
  const max = Math.max(...entries.map(([, value]) => value));
  const width = Math.max(...entries.map(([label]) => label.length));
  const lines = entries.map(([label, value]) => {
    const bar = '#'.repeat(Math.max(1, Math.round((value / max) * BAR_WIDTH)));
    return `${label.padEnd(width)} | ${bar} ${k(value)}`;
  });
  return ['```text', title, ...lines, '```'].join('\n');
}

function failures(result) {
  return result.failed ? ` (${result.failed} failed: ${result.error ?? 'falsy result'})` : '';
}

function caseCells(result) {
  return [
    `${int(result.opsPerSec)}${failures(result)}`,
    ms(result.p50Ms),
    ms(result.p99Ms),
    us(result.nodeCpuUsPerOp),
    us(result.redisCpuUsPerOp),
  ];
}

const CASE_HEADER = ['ops/s', 'p50', 'p99', 'Node CPU / op', 'Redis CPU / op'];

function machineSection({ machine, seconds }) {
  const packages = Object.entries(machine.packages)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  return `## Machine

| | |
|---|---|
| Date | ${machine.date} |
| CPUs (nproc) | ${machine.nproc} × ${machine.cpu} |
| Memory | ${machine.memoryGiB} GiB |
| Load average at start / end (1 min) | ${machine.loadStart.toFixed(2)} / ${machine.loadEnd.toFixed(2)} |
| Node.js | ${machine.node} |
| Redis | ${machine.redis} (${machine.allocator}), private instance on 127.0.0.1, no persistence |
| Packages | ${packages} |
| Measuring time | ${seconds} s |

Node and Redis share the machine's cores, and so does anything else running on it:
a load average near or above the core count at start or end means the figures are
noisy. Compare ratios within one run, not absolute figures across runs.`;
}

function targetsSection(targets) {
  const rows = targets.map((t) => [
    t.area,
    t.label,
    t.min !== undefined ? `>= ${t.min}x` : `<= ${t.max}x`,
    x(t.value),
    t.met ? 'MET' : '**MISSED** (see Notes)',
  ]);
  return `## Targets

Ratios from this run. "ours" is the library as shipped (\`createCacheRedis\` defaults,
ioredis autopipelining off).

${table(['Area', 'Ratio', 'Target', 'Measured', 'Result'], rows)}`;
}

function embeddingsSection({ embeddings }) {
  const s = embeddings.systems;
  const order = ['ours', 'oursAuto', 'raw', 'langchain', 'cacheManager'];
  const rows = order.flatMap((key) => [
    [`${s[key].label}: hit`, ...caseCells(s[key].hits), kb(s[key].bytesPerEntry)],
    [`${s[key].label}: write`, ...caseCells(s[key].writes), ''],
  ]);
  const chartOrder = ['ours', 'raw', 'langchain', 'cacheManager'];
  const { batch } = embeddings;
  const b = (result) => [
    result.name,
    `${int(result.opsPerSec)}${failures(result)}`,
    ms(1000 / result.opsPerSec),
    us(result.nodeCpuUsPerOp),
    us(result.redisCpuUsPerOp),
  ];
  return `## Embeddings

1536-d vectors of random float32 values, user \`bench-user\`, \`maxEntriesPerUser\`
100,000 (no eviction). ${int(embeddings.filled)} entries are filled first (bytes per entry =
used_memory after minus before, over ${int(embeddings.filled)}), hits read random ones of them,
writes store new texts. 32 requests in flight. The raw floor is GET/SET of the float32 bytes
under \`raw:<sha256(text)>\`, decoded to number[] with an indexed loop; LangChain.js hits and
writes are \`embedDocuments([text])\` on cached and new texts, its model a fake that returns the
fixture vectors (and fails a hit case if it is ever asked).

${table(['System: operation', ...CASE_HEADER, 'Bytes per entry'], rows)}

${barChart(
  'Hits, ops/s',
  chartOrder.map((key) => [s[key].label, s[key].hits.opsPerSec]),
)}

${barChart(
  'Writes, ops/s',
  chartOrder.map((key) => [s[key].label, s[key].writes.opsPerSec]),
)}

${barChart(
  'Bytes per entry (shown as k = thousands of bytes)',
  chartOrder.map((key) => [s[key].label, s[key].bytesPerEntry]),
)}

### One batch of ${batch.size} against ${batch.size} sequential reads

One caller (1 in flight), ${batch.size} cached texts per operation: one \`getCachedEmbeddings\`
call against ${batch.size} \`getCachedEmbedding\` calls awaited one after another.

${table(['Operation', 'ops/s', 'time per op', 'Node CPU / op', 'Redis CPU / op'], [b(batch.batch), b(batch.sequential)])}

The batch is **${x(batch.batch.opsPerSec / batch.sequential.opsPerSec)}** faster.`;
}

function messagesSection({ messages }) {
  const s = messages.systems;
  const order = ['ours', 'oursAuto', 'raw', 'langchain'];
  const rows = order.flatMap((key) => [
    [`${s[key].label}: fill 50`, ...caseCells(s[key].fill)],
    [`${s[key].label}: read 50`, ...caseCells(s[key].read)],
    [`${s[key].label}: append 1`, ...caseCells(s[key].append)],
  ]);
  const chartOrder = ['ours', 'raw', 'langchain'];
  const chart = (title, field) =>
    barChart(
      title,
      chartOrder.map((key) => [s[key].label, s[key][field].opsPerSec]),
    );
  return `## Messages

50 messages of 400 bytes of JSON each (\`{id, role, content}\`), 32 requests in flight,
each worker on its own conversation; \`maxCachedMessages\` 10,000,000 (no eviction).
Fill replaces a conversation with the 50 messages, read returns all 50 parsed, append
adds one new message (a new id each time).

- ours: \`cacheMessages\`, \`getCachedMessages\`, \`appendMessages\`.
- raw: \`MULTI DEL + RPUSH 50 EXEC\`, \`LRANGE 0 -1\` + \`JSON.parse\` of each, \`RPUSH\` of 1.
- LangChain.js: \`RedisChatMessageHistory\` from \`@langchain/redis\` (node-redis v4 client, one
  shared client, \`sessionTTL\` 24 h like ours). It has no bulk write: the fill is \`clear()\` then
  the inherited \`addMessages\`, which awaits one \`addMessage\` (LPUSH + EXPIRE) per message.

${table(['System: operation', ...CASE_HEADER], rows)}

${chart('Fill of 50, ops/s', 'fill')}

${chart('Read of 50, ops/s', 'read')}

${chart('Append of 1, ops/s', 'append')}`;
}

function geometricMean(values) {
  return Math.exp(values.reduce((sum, v) => sum + Math.log(v), 0) / values.length);
}

function autopipeliningSection({ embeddings, messages }) {
  const cases = [
    ['embedding hit', embeddings.systems.ours.hits, embeddings.systems.oursAuto.hits],
    ['embedding write', embeddings.systems.ours.writes, embeddings.systems.oursAuto.writes],
    ['message fill 50', messages.systems.ours.fill, messages.systems.oursAuto.fill],
    ['message read 50', messages.systems.ours.read, messages.systems.oursAuto.read],
    ['message append 1', messages.systems.ours.append, messages.systems.oursAuto.append],
  ];
  const rows = cases.map(([name, off, on]) => [
    name,
    int(off.opsPerSec),
    int(on.opsPerSec),
    x(on.opsPerSec / off.opsPerSec),
    `${ms(off.p99Ms)} / ${ms(on.p99Ms)}`,
  ]);
  const mean = geometricMean(cases.map(([, off, on]) => on.opsPerSec / off.opsPerSec));
  const recommendation =
    mean < 1.05
      ? `**Keep \`enableAutoPipelining\` off (the ioredis default, and what \`createCacheRedis\` gives).**
On average (geometric mean over the five cases) turning it on gave ${x(mean)} the throughput,
which does not pay for a less predictable latency.`
      : `**Turn \`enableAutoPipelining\` on by default in \`createCacheRedis\`.** On average
(geometric mean over the five cases) it gave ${x(mean)} the throughput.`;
  return `## ioredis autopipelining

Ours, same cases, clients from \`createCacheRedis(url, { enableAutoPipelining })\`:

${table(['Case', 'off, ops/s', 'on, ops/s', 'on / off', 'p99 off / on'], rows)}

${recommendation}`;
}

function decodeSection({ embeddings }) {
  const { arrayFrom, loop } = embeddings.decode;
  return `## Vector decoding

V8 runs \`Array.from\` over a typed array through the iterator protocol; an indexed loop into
\`new Array(length)\` gives the same number[] much faster, so the library's \`decodeToArray\`
(vector-codec.ts) uses the loop, as does the raw floor:

${table(
  ['Decode of one 1536-d float32 vector to number[]', 'µs'],
  [
    ['Array.from(view)', arrayFrom.toFixed(1)],
    ['indexed loop into new Array(n) (the library and the raw floor)', loop.toFixed(1)],
  ],
)}

Every hit that returns number[] would pay the difference, ${us(arrayFrom - loop)} of Node CPU, and a
100-text batch 100 times.`;
}

const LUA_COPY = `Most of the difference is the copy of the messages through Lua: \`node bench/lua-copy.js\`
shows a script that only returns the same LRANGE costing Redis more than twice a native LRANGE, the
bookkeeping calls about 10 µs together. A bookkeeping-only script followed by a native LRANGE in the
same round trip would remove that copy; it is not done yet.`;

/** Why a target was missed, from this run's figures; shown only for missed targets. */
const MISSED_NOTES = {
  'hit-raw': (r) => {
    const { ours, raw } = r.embeddings.systems;
    return `${load(ours.hits)}. Node spends ${us(ours.hits.nodeCpuUsPerOp)} per hit against
${us(raw.hits.nodeCpuUsPerOp)} for the floor, both decoding with the same indexed loop (see "Vector
decoding"); the gap is two SHA-256 per call (user key and field), the deadline timer and ioredis's
per-command timeout timer, and the larger EVALSHA command. Redis spends
${us(ours.hits.redisCpuUsPerOp)} per hit on the script (HMGET, ZADD into the LRU, purge of expired
entries, two PEXPIREs) against ${us(raw.hits.redisCpuUsPerOp)} for a GET.`;
  },
  'hit-langchain': (r) =>
    `LangChain.js decodes ~30 KB of JSON per hit (Node ${us(r.embeddings.systems.langchain.hits.nodeCpuUsPerOp)}
per hit); if ours is not twice as fast, ours is Redis-bound: Redis
${us(r.embeddings.systems.ours.hits.redisCpuUsPerOp)} per hit for the script.`,
  'hit-cache-manager': (r) =>
    `cache-manager spends Node ${us(r.embeddings.systems.cacheManager.hits.nodeCpuUsPerOp)} per hit
(Keyv's serializer over a number[] of 1536); a miss of this target means the machine was
loaded during ours' case.`,
  'write-raw': (r) => {
    const { ours, raw } = r.embeddings.systems;
    return `A write is one Lua script (HSET, ZADD, purge, HLEN/ZCARD checks, two PEXPIREs):
Redis ${us(ours.writes.redisCpuUsPerOp)} per write against ${us(raw.writes.redisCpuUsPerOp)} for
a SET; Node ${us(ours.writes.nodeCpuUsPerOp)} against ${us(raw.writes.nodeCpuUsPerOp)}
(argument validation of 1536 numbers, two SHA-256, the float32 encoding, timers).`;
  },
  'write-langchain': (r) =>
    `LangChain.js writes with an MGET miss plus a SET pipeline of JSON (Node
${us(r.embeddings.systems.langchain.writes.nodeCpuUsPerOp)} per write); ours is bounded by its
script (Redis ${us(r.embeddings.systems.ours.writes.redisCpuUsPerOp)} per write).`,
  'bytes-raw': (r) =>
    `Ours keeps each vector as a field of the user's HASH plus a member of the LRU ZSET.
Above 128 entries the ZSET is a skiplist plus a dict (about 100-120 bytes per member with
its 43-byte field name, stored twice: once in the HASH, once in the ZSET), so ours pays
${int(r.embeddings.systems.ours.bytesPerEntry - r.embeddings.systems.raw.bytesPerEntry)} bytes per
entry over the plain string key.`,
  'bytes-langchain': () =>
    `LangChain.js stores JSON (about 33 KB per 1536-d vector); ours stores 6 KB of float32 bytes
plus the LRU record. A miss here would mean the float32 payload was not used.`,
  batch: (r) => {
    const { size, batch, sequential } = r.embeddings.batch;
    const { loop } = r.embeddings.decode;
    const batchMs = 1000 / batch.opsPerSec;
    const sequentialMs = 1000 / sequential.opsPerSec;
    // projected, not measured: each sequential read waits one more round trip, the batch one in all
    const rttMs = 0.5;
    const projected = (sequentialMs + size * rttMs) / (batchMs + rttMs);
    return `The batch saves ${size - 1} round trips, but not the work per vector: Node spends
${us(batch.nodeCpuUsPerOp / size)} per vector in the batch (${ms(batchMs)} per batch against
${ms(sequentialMs)} for ${size} sequential reads), ${us(loop)} of it in the decode. On a local Redis a
round trip is cheap, so the batch cannot win by much more than the per-call costs it saves (script
start, hashing, timers). Across a network each sequential read also waits a round trip: with
${rttMs} ms per round trip the same work would take ${ms(sequentialMs + size * rttMs)} sequentially
against ${ms(batchMs + rttMs)} batched, a projected ${x(projected)} (a projection from this run's
figures, not a measurement). Callers that can take \`asFloat32Array: true\` skip the number[]
conversion.`;
  },
  'read-raw': (r) => {
    const { ours, raw } = r.messages.systems;
    return `${load(ours.read)}. The read script returns the list's items, joined into one JSON array
in Node, and also refreshes the LRU and five TTLs: Redis ${us(ours.read.redisCpuUsPerOp)} per read
against ${us(raw.read.redisCpuUsPerOp)} for a plain LRANGE. ${LUA_COPY}`;
  },
  'read-langchain': (r) =>
    `Redis ${us(r.messages.systems.ours.read.redisCpuUsPerOp)} per read for ours (the script keeps
the LRU and the TTLs) against ${us(r.messages.systems.langchain.read.redisCpuUsPerOp)} for
LangChain.js's LRANGE. ${LUA_COPY}`,
  'append-langchain': (r) => {
    const { ours, langchain } = r.messages.systems;
    return `${load(ours.append)}. LangChain.js's append is LPUSH + EXPIRE, sent in one write by node-redis (which
pipelines commands issued in the same tick): Redis ${us(langchain.append.redisCpuUsPerOp)} per
append. Ours runs one script of about 19 redis.call (checks for lost bookkeeping, purge of expired
conversations, lease DEL, EXISTS, SISMEMBER for the id, LLEN, budget GET, RPUSH, SADD, HINCRBY, INCRBY, ZRANGE + ZADD for
the LRU, five PEXPIREs): Redis ${us(ours.append.redisCpuUsPerOp)} per append. That is the price
of idempotent appends, an exact LRU and a global budget, which LangChain.js does not have.`;
  },
  'fill-raw': (r) => {
    const { ours, raw } = r.messages.systems;
    return `${load(ours.fill)}. Ours validates and serializes each message (Node ${us(ours.fill.nodeCpuUsPerOp)} per fill
against ${us(raw.fill.nodeCpuUsPerOp)}) and its script also fills the id SET and the
bookkeeping (Redis ${us(ours.fill.redisCpuUsPerOp)} against ${us(raw.fill.redisCpuUsPerOp)}).`;
  },
  'fill-langchain': (r) =>
    `${load(r.messages.systems.ours.fill)}; LangChain.js needs 101 round trips per fill, ours one
script of Redis ${us(r.messages.systems.ours.fill.redisCpuUsPerOp)} and Node
${us(r.messages.systems.ours.fill.nodeCpuUsPerOp)} (validation, JSON.stringify of 50 messages).
When neither side is near 100% the machine itself was contended (see the load average): this
ratio moved between 2x and 5x across runs on this machine.`,
};

function notesSection(results, targets) {
  const missed = targets.filter((t) => !t.met);
  const items = missed.map((t) => `- **${t.area}, ${t.label}: ${x(t.value)}** — ${MISSED_NOTES[t.id](results)}`);
  return `## Notes

${missed.length === 0 ? 'Every target was met in this run.' : `Missed targets, and why:\n\n${items.join('\n')}`}

- The embedding peers run at their defaults: no TTL and no size limit (LangChain.js's
  RedisByteStore and cache-manager), i.e. with less work per call than ours, which keeps an
  exact per-user LRU and a sliding TTL in the same round trip.
- Every operation is checked (a hit must return a 1536-d vector, a read 50 messages, a write
  \`true\`); a failed check or a cache fallback counts as a failure, not as throughput. The last
  write of each embedding system is read back.
- CPU per op is this Node process's CPU time and Redis's (INFO cpu) over the timed run,
  divided by the operations; Redis CPU includes its network handling.`;
}

function poolingSection(results) {
  const ours = results.embeddings.systems.ours.hits;
  return `## One pipelined connection per client, not a pool

Node runs JavaScript on one thread, so a pool of Redis connections buys no parallelism in a
process: the event loop can only write and parse one thing at a time. What it needs is many
requests in flight, and one connection already gives that: RESP replies come back in the order
the commands were sent, so ioredis and node-redis write every command as soon as it is issued and
match each reply to the oldest pending command. Here 32 requests share one connection
(${int(ours.opsPerSec)} hits/s at p50 ${ms(ours.p50Ms)}). Redis itself executes commands on one
thread, so more connections would not make it faster either; they would cost a file descriptor,
buffers and a handshake each, and lose the ordering. That is why both clients default to one
connection, and why Nest's Redis modules give one client per name. A dedicated connection is
needed only for blocking commands (BLPOP), WATCH/MULTI transactions and pub/sub, none of which
this library uses. To use more cores, run more Node processes, each with its own connection.

\`enableAutoPipelining\` changes only how commands reach the socket: ioredis collects the commands
issued in one event-loop turn into one pipeline and one write. But it runs a single auto-pipeline
at a time per connection: commands issued while one is in flight wait until all of its replies
are back. Under a steady stream of requests this turns continuous pipelining into lock-step
batches, where Redis waits while Node parses and Node waits while Redis executes; it saves write
system calls, which matters when the requests are tiny. See the table above for what it did here.`;
}

function render(results) {
  const targets = evaluateTargets(results);
  return `# Benchmarks

Generated by \`npm run bench\` (bench/run.sh): a private redis-server on a free port, every case in
one run, 32 requests in flight, a warm-up and then a fixed duration per case
(${results.timings.warmupMs} ms + ${results.timings.durationMs} ms). Do not edit by hand.

${[
  machineSection(results),
  targetsSection(targets),
  embeddingsSection(results),
  messagesSection(results),
  autopipeliningSection(results),
  decodeSection(results),
  notesSection(results, targets),
  poolingSection(results),
].join('\n\n')}
`;
}

const ROOT = join(__dirname, '..');
const REPORT = join(ROOT, 'docs', 'benchmarks.md');

/** Sections other benches own (bench/http, bench/cluster.js), kept as they stand in the current report. */
const FOREIGN_SECTIONS = ['http', 'cluster'];

function keptSections() {
  let current = '';
  try {
    current = readFileSync(REPORT, 'utf8');
  } catch {
    return '';
  }
  return FOREIGN_SECTIONS.map((name) => {
    const match = current.match(new RegExp(`<!-- ${name}:start -->[\\s\\S]*?<!-- ${name}:end -->`));
    return match ? `\n${match[0]}\n` : '';
  }).join('');
}

/** Writes docs/benchmarks.md, formatted by the repo's own prettier so that \`npm run lint\` passes. */
async function writeReport(results) {
  const prettier = require(require.resolve('prettier', { paths: [ROOT] }));
  const options = (await prettier.resolveConfig(REPORT)) ?? {};
  const markdown = render(results) + keptSections();
  writeFileSync(REPORT, await prettier.format(markdown, { ...options, filepath: REPORT }));
  return REPORT;
}

if (require.main === module) {
  const [resultsFile] = process.argv.slice(2);
  if (!resultsFile) throw new Error('usage: node bench/report.js <results.json>');
  writeReport(JSON.parse(readFileSync(resultsFile, 'utf8'))).then((report) => console.log(`wrote ${report}`));
}

module.exports = { writeReport };
