'use strict';
// The "why missed" notes of docs/benchmarks.md: for each target of bench/targets.js
// (by id), what the gap is made of, quoting this run's figures. bench/report.js
// writes them under Notes, for missed targets only.

const { int, x, us, ms } = require('./lib/format');

/** Share of one core a side used during a case: ops/s times CPU per op. */
const busy = (r, side) => `${Math.round((r.opsPerSec * r[`${side}CpuUsPerOp`]) / 1e4)}%`;

const LUA_COPY = `Most of the difference is the copy of the messages through Lua: \`node bench/lua-copy.js\`
shows a script that only returns the same LRANGE costing Redis more than twice a native LRANGE, the
bookkeeping calls about 10 µs together. A bookkeeping-only script followed by a native LRANGE in the
same round trip would remove that copy; it is not done yet.`;

/** Why a target was missed, quoting this run's figures; `load` and `luaCopy` give a shared explanation in full once. */
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
  batch: ({ results: { embeddings } }) => {
    const { size, batch, sequential } = embeddings.batch;
    const batchMs = 1000 / batch.opsPerSec;
    const sequentialMs = 1000 / sequential.opsPerSec;
    // projected, not measured: each sequential read waits one more round trip, the batch one in all
    const rttMs = 0.5;
    const projected = (sequentialMs + size * rttMs) / (batchMs + rttMs);
    return `The batch saves ${size - 1} round trips, but not the work per vector: Node spends
${us(batch.nodeCpuUsPerOp / size)} per vector in the batch (${ms(batchMs)} per batch against
${ms(sequentialMs)} for ${size} sequential reads), ${us(embeddings.decode.loop)} of it in the decode. On a local Redis a
round trip is cheap, so the batch cannot win by much more than the per-call costs it saves (script
start, hashing, timers). Across a network each sequential read also waits a round trip: with
${rttMs} ms per round trip the same work would take ${ms(sequentialMs + size * rttMs)} sequentially
against ${ms(batchMs + rttMs)} batched, a projected ${x(projected)} (a projection from this run's
figures, not a measurement). Callers that can take \`asFloat32Array: true\` skip the number[]
conversion.`;
  },
  'read-raw': ({ m: { ours, raw }, load, luaCopy }) =>
    `${load(ours.read)}The read script returns the list's items, joined into one JSON array
in Node, and also refreshes the LRU and five TTLs: Redis ${us(ours.read.redisCpuUsPerOp)} per read
against ${us(raw.read.redisCpuUsPerOp)} for a plain LRANGE. ${luaCopy()}`,
  'read-langchain': ({ m, luaCopy }) =>
    `Redis ${us(m.ours.read.redisCpuUsPerOp)} per read for ours (the script keeps
the LRU and the TTLs) against ${us(m.langchain.read.redisCpuUsPerOp)} for
LangChain.js's LRANGE. ${luaCopy()}`,
  'append-langchain': ({ m: { ours, langchain }, load }) =>
    `${load(ours.append)}LangChain.js's append is LPUSH + EXPIRE, sent in one write by node-redis (which
pipelines commands issued in the same tick): Redis ${us(langchain.append.redisCpuUsPerOp)} per
append. Ours runs one script of about 19 redis.call (checks for lost bookkeeping, purge of expired
conversations, lease DEL, EXISTS, SISMEMBER for the id, LLEN, budget GET, RPUSH, SADD, HINCRBY, INCRBY, ZRANGE + ZADD for
the LRU, five PEXPIREs): Redis ${us(ours.append.redisCpuUsPerOp)} per append. That is the price
of idempotent appends, an exact LRU and a global budget, which LangChain.js does not have.`,
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
  const luaCopy = () => once(LUA_COPY, LUA_COPY, 'As above, most of it is the copy through Lua.');
  const context = { e: results.embeddings.systems, m: results.messages.systems, results, load, luaCopy };
  const items = missed.map((t) => `- **${t.area}, ${t.label}: ${x(t.value)}** — ${MISSED_NOTES[t.id](context)}`);
  return `Missed targets, and why:\n\n${items.join('\n')}`;
}

module.exports = { notes };
