'use strict';
// The "why missed" notes of docs/benchmarks.md: for each target of bench/targets.js
// (by id, or its own `note`), what the gap is made of, quoting this run's figures (those of each
// case's median round). bench/report.js writes them under Notes, for missed
// targets only.

const { DIMENSIONS } = require('./lib/fixtures');
const { int, us, ms, xRange } = require('./lib/format');

/** Share of one core a side used during a case: ops/s times CPU per op. */
const busy = (r, side) => `${Math.round((r.opsPerSec * r[`${side}CpuUsPerOp`]) / 1e4)}%`;

/** Why a target was missed, quoting this run's figures; `load` gives a shared explanation in full once. */
const MISSED_NOTES = {
  'hit-raw': ({ e: { ours, raw }, load }) =>
    `${load(ours.hits)}Node spends ${us(ours.hits.nodeCpuUsPerOp)} per hit against
${us(raw.hits.nodeCpuUsPerOp)} for the floor, both decoding with the same indexed loop (see "Vector
decoding"); the gap is two SHA-256 per call (user key and field), the deadline timer and ioredis's
per-command timeout timer, and the larger EVALSHA command. Redis spends
${us(ours.hits.redisCpuUsPerOp)} per hit on the script (HMGET, ZADD into the LRU, purge of expired
entries, two PEXPIREs) against ${us(raw.hits.redisCpuUsPerOp)} for a GET.`,
  'hit-langchain': ({ e }) =>
    `LangChain.js decodes ~30 KB of JSON per hit (Node ${us(e.langchain.hits.nodeCpuUsPerOp)}
per hit); if ours is not twice as fast, ours is Redis-bound: Redis
${us(e.ours.hits.redisCpuUsPerOp)} per hit for the script.`,
  'hit-cache-manager': ({ e }) =>
    `cache-manager spends Node ${us(e.cacheManager.hits.nodeCpuUsPerOp)} per hit
(Keyv's serializer over a number[] of 1536); a miss of this target means the machine was
loaded during ours' case.`,
  'hit-otel-no-sdk': ({ e: { ours, oursNoOtel }, load }) =>
    `${load(ours.hits)}Both run the same code, one with \`@opentelemetry/api\` found and no SDK
registered: Node spends ${us(ours.hits.nodeCpuUsPerOp)} per hit against ${us(oursNoOtel.hits.nodeCpuUsPerOp)}
without the API. With the API, a call starts the API's non-recording span and checks \`isRecording()\`;
it enters no context and sets no attribute (libs/redis-cache/test/tracing/without-sdk.spec.ts).`,
  'write-raw': ({ e: { ours, raw } }) =>
    `A write is one Lua script (HSET, ZADD, purge, HLEN/ZCARD checks, two PEXPIREs):
Redis ${us(ours.writes.redisCpuUsPerOp)} per write against ${us(raw.writes.redisCpuUsPerOp)} for
a SET; Node ${us(ours.writes.nodeCpuUsPerOp)} against ${us(raw.writes.nodeCpuUsPerOp)}
(argument validation of 1536 numbers, two SHA-256, the float32 encoding, timers).`,
  'write-langchain': ({ e }) =>
    `LangChain.js writes with an MGET miss plus a SET pipeline of JSON (Node
${us(e.langchain.writes.nodeCpuUsPerOp)} per write); ours is bounded by its
script (Redis ${us(e.ours.writes.redisCpuUsPerOp)} per write).`,
  'bytes-raw': ({ e }) =>
    `Ours keeps each vector as a field of the user's HASH plus a member of the LRU ZSET.
Above 128 entries the ZSET is a skiplist plus a dict (about 100-120 bytes per member with
its 43-byte field name, stored twice: once in the HASH, once in the ZSET), so ours pays
${int(e.ours.bytesPerEntry - e.raw.bytesPerEntry)} bytes per
entry over the plain string key.`,
  'bytes-langchain': () =>
    `LangChain.js stores JSON (about 33 KB per 1536-d vector); ours stores 6 KB of float32 bytes
plus the LRU record. A miss here would mean the float32 payload was not used.`,
  'hit-float16-raw': ({ e: { oursFloat16: half, ours, raw }, load }) =>
    `${load(half.hits)}Node spends ${us(half.hits.nodeCpuUsPerOp)} per float16 hit against
${us(ours.hits.nodeCpuUsPerOp)} for float32 ours and ${us(raw.hits.nodeCpuUsPerOp)} for the floor:
ours' per-call costs (hashing, timers, EVALSHA), plus a decode that looks each element up in a
65,536-entry table instead of copying it. Redis spends ${us(half.hits.redisCpuUsPerOp)} per hit on
the same script as float32 (${us(ours.hits.redisCpuUsPerOp)}) against ${us(raw.hits.redisCpuUsPerOp)} for a GET.`,
  'write-float16-raw': ({ e: { oursFloat16: half, ours, raw }, load }) =>
    `${load(half.writes)}Node spends ${us(half.writes.nodeCpuUsPerOp)} per float16 write against
${us(ours.writes.nodeCpuUsPerOp)} for float32 ours and ${us(raw.writes.nodeCpuUsPerOp)} for a SET:
each of the ${int(DIMENSIONS)} elements is rounded to float16 bit by bit in JavaScript (Node 20
has no Float16Array), on top of ours' validation, hashing and timers. Redis spends
${us(half.writes.redisCpuUsPerOp)} per write on the script against ${us(raw.writes.redisCpuUsPerOp)} for a SET.`,
  'bytes-float16-raw': ({ e: { oursFloat16: half, raw } }) =>
    `float16 halves the payload (${int(DIMENSIONS * 2)} bytes against ${int(DIMENSIONS * 4)}), not what
comes with it: ours float16 takes ${int(half.bytesPerEntry)} bytes per entry,
${int(half.bytesPerEntry - DIMENSIONS * 2)} over its payload (the HASH field, the LRU member and
allocator rounding), against ${int(raw.bytesPerEntry)} for the raw string key,
${int(raw.bytesPerEntry - DIMENSIONS * 4)} over its payload.`,
  'batch-netem': ({ results: { batchNetem: n, embeddings } }) => {
    const { size, batch, sequential } = n;
    const batchMs = 1000 / batch.opsPerSec;
    const sequentialMs = 1000 / sequential.opsPerSec;
    const linkMs = n.ping.link.value - n.ping.loopback.value;
    return `Across the link (${n.link.kind}) a PING took ${ms(linkMs)} longer than on loopback. The batch saves
${size - 1} of those round trips, not the work per vector: ${ms(batchMs)} per batch (Node ${us(batch.nodeCpuUsPerOp / size)}
per vector, ${us(embeddings.decode.loop)} of it in the decode) against ${ms(sequentialMs)} for ${size} sequential
reads, of which ${ms(size * linkMs)} is the link's. A link that adds less than the 0.5 ms it was set to lowers the
ratio with it; a batch that takes more than ${ms(sequentialMs / 20)} (a twentieth of the sequential reads) misses it on
its work per vector, which callers that can take \`asFloat32Array: true\` cut by the number[] conversion.`;
  },
  'near-hit-raw': ({ results: { nearCache: n }, load }) =>
    `${load(n.hot.near)}A near hit costs Node ${us(n.hot.near.nodeCpuUsPerOp)} against
${us(n.hot.raw.nodeCpuUsPerOp)} for the floor's GET and decode, and no Redis time. More than half of it is the
copy each caller gets of its own: \`slice()\` of a ${int(DIMENSIONS)}-element \`number[]\` of doubles
(${int(DIMENSIONS * 8)} bytes to allocate and copy, and as much garbage for the young generation to collect),
then the argument checks, the LRU move and the promise. A vector shared by all callers, frozen, would save the
copy; the library gives each caller an array of its own instead.`,
  'near-memory': ({ results: { nearCache: n } }) =>
    `The near cache evicts before it adds, so its bytes can't pass maxBytes: a miss here is a bug
(${int(Math.max(...n.memory.rounds.map((u) => u.bytes)))} bytes counted against ${int(n.memory.maxBytes)}).`,
  'near-mixed-ops': ({ results: { nearCache: n }, load }) =>
    `${load(n.mixed.on)}With the near cache on, ${(100 * n.mixed.on.nearShare.value).toFixed(0)}% of the reads
came from memory; the others, and the refreshes, went to Redis (Node ${us(n.mixed.on.nodeCpuUsPerOp)} per read on,
${us(n.mixed.off.nodeCpuUsPerOp)} off).`,
  'near-mixed-redis-cpu': ({ results: { nearCache: n } }) =>
    `Redis spent ${us(n.mixed.on.redisCpuUsPerOp)} per read with the near cache on, against
${us(n.mixed.off.redisCpuUsPerOp)} off: the reads it did not serve (${(100 * (1 - n.mixed.on.nearShare.value)).toFixed(0)}%),
each a script and an HMGET, and the refreshes of its hits, one script per user per second.`,
  'read-raw': ({ m: { ours, raw }, load }) =>
    `${load(ours.read)}Ours sends the read script (bookkeeping: the LRU, five TTLs, the lease
on a miss) and then a native LRANGE, in one round trip: Redis ${us(ours.read.redisCpuUsPerOp)} per read
against ${us(raw.read.redisCpuUsPerOp)} for a plain LRANGE, and Node ${us(ours.read.nodeCpuUsPerOp)}
against ${us(raw.read.nodeCpuUsPerOp)} (two replies, the deadline timer, validation).`,
  'read-langchain': ({ m }) =>
    `Redis ${us(m.ours.read.redisCpuUsPerOp)} per read for ours (the script keeps
the LRU and the TTLs, then a native LRANGE) against ${us(m.langchain.read.redisCpuUsPerOp)} for
LangChain.js's LRANGE; Node ${us(m.ours.read.nodeCpuUsPerOp)} against ${us(m.langchain.read.nodeCpuUsPerOp)}.`,
  'read-redis-time': ({ m: { ours } }) =>
    `Of the read script's 12 calls (TIME, one EXISTS that says which of the bucket's LRU, sizes and deadlines exist, the purge of expired
conversations, HGET and LINDEX for the conversation, ZRANGE + ZADD for the LRU, five PEXPIREs), none can go
without losing the exact LRU, the TTLs or the repair of lost keys; the LRANGE of 50 messages is
Redis ${us(ours.read.commands.lrange?.usecPerCall ?? 0)} of it.`,
  'fill-raw': ({ m: { ours, raw }, load }) =>
    `${load(ours.fill)}Ours validates and serializes each message (Node ${us(ours.fill.nodeCpuUsPerOp)} per fill
against ${us(raw.fill.nodeCpuUsPerOp)}) and its script also fills the id SET and the
bookkeeping (Redis ${us(ours.fill.redisCpuUsPerOp)} against ${us(raw.fill.redisCpuUsPerOp)}).`,
  'fill-langchain': ({ m: { ours }, load }) =>
    `${load(ours.fill)}LangChain.js needs 101 round trips per fill, ours one
script of Redis ${us(ours.fill.redisCpuUsPerOp)} and Node
${us(ours.fill.nodeCpuUsPerOp)} (validation, JSON.stringify of 50 messages).
When neither side is near 100% the machine itself was contended (see the load average): this
ratio moved between 2x and 5x across runs on this machine.`,
};

/** The missed targets of a run, each with why; a sentence if every target was met. */
function notes(results, targets) {
  const missed = targets.filter((t) => !t.met);
  if (missed.length === 0) return 'Every target was met in this run.';
  const said = new Set(); // an explanation two notes share is given by the first only
  const once = (key, text, instead = '') => (said.has(key) ? instead : (said.add(key), text));
  const load = (r) => once(r, `Node was busy ${busy(r, 'node')} of a core and Redis ${busy(r, 'redis')}. `);
  const context = { e: results.embeddings.systems, m: results.messages.systems, results, load };
  const items = missed.map(
    (t) => `- **${t.area}, ${t.label}: ${xRange(t.measured, t.unit)}** — ${(MISSED_NOTES[t.id] ?? t.note)(context)}`,
  );
  return `Missed targets, and why:\n\n${items.join('\n')}`;
}

module.exports = { notes };
