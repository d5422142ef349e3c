'use strict';
// The targets, as ratios computed from one run. "ours" is the library as
// shipped: createCacheRedis defaults, i.e. ioredis autopipelining off.

const e = (r) => r.embeddings.systems;
const m = (r) => r.messages.systems;
const ratio = (a, b) => a / b;

const TARGETS = [
  {
    id: 'hit-raw',
    area: 'Hit path',
    label: 'ours / raw float32 GET',
    min: 0.6,
    value: (r) => ratio(e(r).ours.hits.opsPerSec, e(r).raw.hits.opsPerSec),
  },
  {
    id: 'hit-langchain',
    area: 'Hit path',
    label: 'ours / LangChain.js',
    min: 2,
    value: (r) => ratio(e(r).ours.hits.opsPerSec, e(r).langchain.hits.opsPerSec),
  },
  {
    id: 'hit-cache-manager',
    area: 'Hit path',
    label: 'ours / cache-manager',
    min: 5,
    value: (r) => ratio(e(r).ours.hits.opsPerSec, e(r).cacheManager.hits.opsPerSec),
  },
  {
    id: 'write-raw',
    area: 'Write path',
    label: 'ours / raw float32 SET',
    min: 0.5,
    value: (r) => ratio(e(r).ours.writes.opsPerSec, e(r).raw.writes.opsPerSec),
  },
  {
    id: 'write-langchain',
    area: 'Write path',
    label: 'ours / LangChain.js',
    min: 3,
    value: (r) => ratio(e(r).ours.writes.opsPerSec, e(r).langchain.writes.opsPerSec),
  },
  {
    id: 'bytes-raw',
    area: 'Bytes per entry (with LRU bookkeeping)',
    label: 'ours / raw float32 string key',
    max: 1.2,
    value: (r) => ratio(e(r).ours.bytesPerEntry, e(r).raw.bytesPerEntry),
  },
  {
    id: 'bytes-langchain',
    area: 'Bytes per entry (with LRU bookkeeping)',
    label: 'ours / LangChain.js',
    max: 0.3,
    value: (r) => ratio(e(r).ours.bytesPerEntry, e(r).langchain.bytesPerEntry),
  },
  {
    id: 'batch',
    area: 'One 100-text batch read',
    label: 'time of 100 sequential reads / time of one batch',
    min: 10,
    value: (r) => ratio(r.embeddings.batch.batch.opsPerSec, r.embeddings.batch.sequential.opsPerSec),
  },
  {
    id: 'read-raw',
    area: 'Message read (50)',
    label: 'ours / raw LRANGE + JSON.parse',
    min: 0.7,
    value: (r) => ratio(m(r).ours.read.opsPerSec, m(r).raw.read.opsPerSec),
  },
  {
    id: 'read-langchain',
    area: 'Message read (50)',
    label: 'ours / LangChain.js getMessages',
    min: 1.2,
    value: (r) => ratio(m(r).ours.read.opsPerSec, m(r).langchain.read.opsPerSec),
  },
  {
    id: 'append-langchain',
    area: 'Message append (1)',
    label: 'ours / LangChain.js addMessage',
    min: 0.7,
    value: (r) => ratio(m(r).ours.append.opsPerSec, m(r).langchain.append.opsPerSec),
  },
  {
    id: 'fill-raw',
    area: 'Message fill (50)',
    label: 'ours / raw MULTI DEL + RPUSH',
    min: 0.5,
    value: (r) => ratio(m(r).ours.fill.opsPerSec, m(r).raw.fill.opsPerSec),
  },
  {
    id: 'fill-langchain',
    area: 'Message fill (50)',
    label: 'ours / LangChain.js clear + addMessages',
    min: 3,
    value: (r) => ratio(m(r).ours.fill.opsPerSec, m(r).langchain.fill.opsPerSec),
  },
];

/** Every target with its measured value and whether it was met. */
function evaluateTargets(results) {
  return TARGETS.map((target) => {
    const value = target.value(results);
    const met = target.min !== undefined ? value >= target.min : value <= target.max;
    return { ...target, value, met };
  });
}

module.exports = { evaluateTargets };
