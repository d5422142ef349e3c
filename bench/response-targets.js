'use strict';
// The response cache's targets (bench/responses.js measures them), which bench/targets.js lists with the others.
// Each names its suite, so that a quick run of the suite alone (BENCH_SUITES=responses) checks them, and says
// why it was missed (`note`), quoting the run's figures.

const { us } = require('./lib/format');
const { ratios } = require('./lib/rounds');

const hits = (results) => results.responses.hits.systems;
const replayRounds = (results) => results.responses.replay.systems.ours.rounds;

const RESPONSE_TARGETS = [
  {
    id: 'response-hit-recipe',
    suite: 'responses',
    area: 'Response hit (generateText, 32 in flight)',
    label: "ours / the AI SDK docs' caching middleware on raw Redis",
    min: 0.8,
    values: (results) => ratios(hits(results).ours.hits.opsPerSecRounds, hits(results).recipe.hits.opsPerSecRounds),
    note: ({ results, load }) => {
      const { ours, recipe } = hits(results);
      return `${load(ours.hits)}Node spends ${us(ours.hits.nodeCpuUsPerOp)} per hit against
${us(recipe.hits.nodeCpuUsPerOp)} for the recipe, generateText's own work included on both sides: ours makes the
SHA-256 of the call's canonical form and of its entry field (its tenant's tag is made once per tenant), runs the
lookup script and decodes tagged JSON; the recipe stringifies the call into its key and parses the JSON a GET
returns. Redis spends ${us(ours.hits.redisCpuUsPerOp)}
per hit on the script (the LRU touch, the purge of expired entries, the lock check) against
${us(recipe.hits.redisCpuUsPerOp)} for a GET.`;
    },
  },
  {
    id: 'response-replay-first-part',
    suite: 'responses',
    area: 'Response replay (a stored stream of 500 parts, one call at a time)',
    label: 'time to the first part, median of each round',
    max: 2000,
    unit: 'µs',
    values: (results) => replayRounds(results).map((round) => round.firstPartMs.p50 * 1000),
    note: ({ results }) => {
      const rounds = replayRounds(results);
      const last = rounds.map((round) => round.lastPartMs.p50 * 1000).sort((a, b) => a - b);
      return `A replay's first part waits for the lookup script's reply, which holds the whole stored stream, and
for its decode; the last part comes ${us(last[Math.floor((last.length - 1) / 2)])} after the call's start (median
round). Where the machine was loaded, the rounds' spread says so.`;
    },
  },
  {
    id: 'response-coalescing-calls',
    suite: 'responses',
    area: 'Coalescing (100 identical calls at once, across 4 processes)',
    label: 'model calls in a round',
    exact: 1,
    unit: 'call',
    values: (results) => results.responses.coalescing.rounds.map((round) => round.modelCalls),
    note: ({ results }) => {
      const rounds = results.responses.coalescing.rounds;
      const off = rounds.filter((round) => round.modelCalls !== 1);
      return `${off.length} of ${rounds.length} rounds made other than one model call
(${off.map((round) => `${round.modelCalls}: ${JSON.stringify(round.sources)}`).join('; ')}). A follower asks the
model itself only when its leader failed, died, or gave nothing within \`coalesceTimeoutMs\` (60 s).`;
    },
  },
];

module.exports = { RESPONSE_TARGETS };
