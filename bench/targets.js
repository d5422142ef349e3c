'use strict';
// The targets, as ratios computed from one run. "ours" is the library as
// shipped: createCacheRedis defaults, i.e. ioredis autopipelining off.

/**
 * Targets that compare ours with peers on one figure of a suite: ops/s of a
 * case, or bytes per entry. Each row is met when ours / peer is at least `min`
 * or at most `max`; `id` keys the report's note for a miss.
 */
function oursAgainst(area, suite, figure, rows) {
  const of = (system) => (figure === 'bytesPerEntry' ? system.bytesPerEntry : system[figure].opsPerSec);
  return rows.map(({ peer, ...row }) => ({
    area,
    ...row,
    value: (r) => of(r[suite].systems.ours) / of(r[suite].systems[peer]),
  }));
}

const TARGETS = [
  ...oursAgainst('Hit path', 'embeddings', 'hits', [
    { id: 'hit-raw', peer: 'raw', label: 'ours / raw float32 GET', min: 0.6 },
    { id: 'hit-langchain', peer: 'langchain', label: 'ours / LangChain.js', min: 2 },
    { id: 'hit-cache-manager', peer: 'cacheManager', label: 'ours / cache-manager', min: 5 },
  ]),
  ...oursAgainst('Write path', 'embeddings', 'writes', [
    { id: 'write-raw', peer: 'raw', label: 'ours / raw float32 SET', min: 0.5 },
    { id: 'write-langchain', peer: 'langchain', label: 'ours / LangChain.js', min: 3 },
  ]),
  ...oursAgainst('Bytes per entry (with LRU bookkeeping)', 'embeddings', 'bytesPerEntry', [
    { id: 'bytes-raw', peer: 'raw', label: 'ours / raw float32 string key', max: 1.2 },
    { id: 'bytes-langchain', peer: 'langchain', label: 'ours / LangChain.js', max: 0.3 },
  ]),
  {
    id: 'batch',
    area: 'One 100-text batch read',
    label: 'time of 100 sequential reads / time of one batch',
    min: 10,
    value: ({ embeddings: { batch } }) => batch.batch.opsPerSec / batch.sequential.opsPerSec,
  },
  ...oursAgainst('Message read (50)', 'messages', 'read', [
    { id: 'read-raw', peer: 'raw', label: 'ours / raw LRANGE + JSON.parse', min: 0.7 },
    { id: 'read-langchain', peer: 'langchain', label: 'ours / LangChain.js getMessages', min: 1.2 },
  ]),
  ...oursAgainst('Message append (1)', 'messages', 'append', [
    { id: 'append-langchain', peer: 'langchain', label: 'ours / LangChain.js addMessage', min: 0.7 },
  ]),
  ...oursAgainst('Message fill (50)', 'messages', 'fill', [
    { id: 'fill-raw', peer: 'raw', label: 'ours / raw MULTI DEL + RPUSH', min: 0.5 },
    { id: 'fill-langchain', peer: 'langchain', label: 'ours / LangChain.js clear + addMessages', min: 3 },
  ]),
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
