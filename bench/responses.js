'use strict';
// The response cache suite, on the demo's local language model (bench/lib/local-model.js):
// - hits: generateText answered from the cache, 32 in flight, ours (responseCacheMiddleware) against the AI SDK
//   docs' recipe on raw Redis (bench/lib/ai-sdk-cache-recipe.js), measured in the same rounds, in a rotated order;
// - replay: time to the first part of a stored 500-part stream, one call at a time;
// - coalescing: 100 identical stream calls at once across 4 processes, a new prompt each round: the model calls,
//   and when each follower got its first part.

const { fork } = require('node:child_process');
const { once } = require('node:events');
const { join } = require('node:path');
const { generateText, wrapLanguageModel } = require('ai');
const { responseCacheMiddleware } = require('../libs/redis-cache/dist/ai-sdk');
const { ResponseCacheService, createCacheRedis } = require('../libs/redis-cache/dist/client');
const { cacheMiddleware } = require('./lib/ai-sdk-cache-recipe');
const { distribution } = require('./lib/distribution');
const { measure, timings } = require('./lib/harness');
const { CountedModel } = require('./lib/local-model');
const { floorClient, ready } = require('./lib/redis');
const { acrossRounds, rotated } = require('./lib/rounds');

/** Distinct prompts the hit case cycles through, each a short conversation, each answered with ANSWER_TOKENS. */
const PROMPTS = 100;
const ANSWER_TOKENS = 200;
/** 495 tokens: stream-start, response-metadata, text-start, the deltas, text-end and finish make 500 parts. */
const REPLAY_PARTS = 500;
const COALESCING = { processes: 4, calls: 100, tokens: 100, tokenLatencyMs: 5 };
const TENANT = 'bench';

/** The hit case's conversations: the question differs, the turns before it are those of a typical chat. */
function conversation(i) {
  return [
    { role: 'user', content: 'I am planning a three-day trip to Lisbon in spring. What should I not miss?' },
    {
      role: 'assistant',
      content:
        'Belém and its tower, the Alfama on foot, a tram ride on line 28, and an evening in the Bairro Alto. ' +
        'Spring is a good time: mild, and before the summer crowds.',
    },
    { role: 'user', content: `Question ${i}: which of these would you do on day ${(i % 3) + 1}, and why?` },
  ];
}

/** Ours as shipped: ResponseCacheService on a client of createCacheRedis, through responseCacheMiddleware. */
async function ours(url, model) {
  const client = await ready(createCacheRedis(url));
  const cache = new ResponseCacheService(client);
  return {
    label: 'ours (responseCacheMiddleware)',
    model: wrapLanguageModel({ model, middleware: responseCacheMiddleware({ cache, tenant: TENANT }) }),
    close: async () => {
      await cache.close();
      await client.quit();
    },
  };
}

/** The AI SDK docs' recipe, on a plain client of the library's ioredis (the raw floors' client). */
async function recipe(url, model) {
  const client = await floorClient(url);
  return {
    label: 'AI SDK docs recipe (raw GET/SET of the JSON)',
    model: wrapLanguageModel({ model, middleware: cacheMiddleware(client) }),
    close: () => client.quit(),
  };
}

/** generateText of conversation `i`, true when it gave the expected text. */
async function generates(model, i, expected) {
  const { text } = await generateText({ model, messages: conversation(i), maxOutputTokens: ANSWER_TOKENS });
  return text === expected[i];
}

async function hitCase(admin, systems, model) {
  const { rounds } = timings();
  const expected = [];
  for (let i = 0; i < PROMPTS; i++) {
    expected.push((await generateText({ model, messages: conversation(i), maxOutputTokens: ANSWER_TOKENS })).text);
  }
  // every system answers every prompt once, from the model: the rounds then only hit
  for (const system of systems) {
    for (let i = 0; i < PROMPTS; i++) await generates(system.model, i, expected);
  }
  await admin.ping(); // the recipe's SETs are not awaited: they are written once this reply comes back
  model.hitsOnly = true;
  const live = systems.map((system) => ({ ...system, hits: [], next: 0 }));
  for (let r = 0; r < rounds; r++) {
    const order = rotated(live, r, rounds);
    console.log(`responses, hits, round ${r + 1} of ${rounds}: ${order.map((s) => s.key).join(', ')}`);
    for (const s of order) {
      const op = () => generates(s.model, s.next++ % PROMPTS, expected);
      s.hits.push(await measure(`${s.label} generateText hit`, op, admin));
    }
  }
  model.hitsOnly = false;
  return Object.fromEntries(live.map((s) => [s.key, { label: s.label, hits: acrossRounds(s.hits) }]));
}

/** Replays of one stored 500-part stream, one at a time, for `ms`: when the first and the last part came. */
async function replays(system, params, ms, stopAfterFirst) {
  const first = [];
  const last = [];
  let failed = 0;
  let error;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const started = performance.now();
    try {
      const { stream } = await system.model.doStream(params);
      const reader = stream.getReader();
      const { value } = await reader.read();
      first.push(performance.now() - started);
      if (value?.type !== 'stream-start') throw new Error(`the first part is ${value?.type}`);
      if (stopAfterFirst) {
        await reader.cancel();
        continue;
      }
      let parts = 1;
      let finish;
      for (let next = await reader.read(); !next.done; next = await reader.read()) {
        parts++;
        finish = next.value;
      }
      last.push(performance.now() - started);
      if (parts !== REPLAY_PARTS || finish.type !== 'finish')
        throw new Error(`${parts} parts, the last ${finish?.type}`);
    } catch (caught) {
      failed++;
      error ??= String(caught.message ?? caught);
    }
  }
  return { firstPartMs: distribution(first), lastPartMs: last.length ? distribution(last) : undefined, failed, error };
}

async function replayCase(systems, model) {
  const { rounds, warmupMs, durationMs } = timings();
  const params = {
    prompt: [{ role: 'user', content: [{ type: 'text', text: 'Tell me everything about response caches.' }] }],
    maxOutputTokens: REPLAY_PARTS - 5,
  };
  for (const system of systems) {
    // a miss, stored once it ends
    const { stream } = await system.model.doStream(params);
    const reader = stream.getReader();
    while (!(await reader.read()).done);
  }
  await new Promise((resolve) => setTimeout(resolve, 50)); // the recipe's SET, not awaited
  model.hitsOnly = true;
  const results = Object.fromEntries(systems.map((s) => [s.key, { label: s.label, rounds: [] }]));
  for (let r = 0; r < rounds; r++) {
    const order = rotated(systems, r, rounds);
    for (const system of order) {
      // the recipe replays at 10 ms a part: only its first part is timed
      const stopAfterFirst = system.key === 'recipe';
      await replays(system, params, warmupMs, stopAfterFirst);
      const round = await replays(system, params, durationMs, stopAfterFirst);
      results[system.key].rounds.push(round);
      console.log(
        `  ${system.label} replay of ${REPLAY_PARTS} parts: first part p50 ${round.firstPartMs.p50.toFixed(3)} ms, ` +
          `p99 ${round.firstPartMs.p99.toFixed(3)} ms (${round.firstPartMs.count} replays)` +
          (round.lastPartMs ? `, last part p50 ${round.lastPartMs.p50.toFixed(3)} ms` : '') +
          (round.failed ? `, ${round.failed} FAILED (${round.error})` : ''),
      );
    }
  }
  model.hitsOnly = false;
  return { parts: REPLAY_PARTS, systems: results };
}

/** The worker processes of the coalescing case, started and ready. */
async function startWorkers(url) {
  const script = join(__dirname, 'lib', 'coalescing-worker.js');
  const options = JSON.stringify({ url, tokenLatencyMs: COALESCING.tokenLatencyMs });
  const workers = Array.from({ length: COALESCING.processes }, () => fork(script, [options]));
  await Promise.all(workers.map((worker) => once(worker, 'message')));
  return workers;
}

/** One round: every worker starts its share of the calls at one wall-clock time; their reports, gathered. */
async function coalescingRound(workers, prompt) {
  const at = Date.now() + 100;
  const calls = COALESCING.calls / workers.length;
  const reports = workers.map((worker) => once(worker, 'message').then(([message]) => message));
  for (const worker of workers) worker.send({ prompt, calls, maxOutputTokens: COALESCING.tokens, at });
  const done = await Promise.all(reports);
  const all = done.flatMap((report) => report.results);
  const leader = all.find((result) => result.source === 'miss');
  const followers = done.flatMap((report) =>
    report.results
      .filter((result) => result.source === 'coalesced')
      .map((result) => ({ ...result, withLeader: report.modelCalls > 0 })),
  );
  const firstParts = (list) => list.map((result) => result.firstPartMs);
  const lags = (list) => (leader ? list.map((result) => result.firstPartAt - leader.firstPartAt) : []);
  return {
    modelCalls: done.reduce((sum, report) => sum + report.modelCalls, 0),
    calls: all.length,
    sources: all.reduce((counts, { source }) => ({ ...counts, [source]: (counts[source] ?? 0) + 1 }), {}),
    complete: all.filter((result) => result.finished && result.parts === COALESCING.tokens + 5).length,
    sameAnswer: new Set(all.map((result) => result.text)).size === 1,
    leaderFirstPartMs: leader ? [leader.firstPartMs] : [],
    leaderLastPartMs: leader ? [leader.lastPartMs] : [],
    followerFirstPartMs: firstParts(followers),
    sameProcessFirstPartMs: firstParts(followers.filter((f) => f.withLeader)),
    otherProcessFirstPartMs: firstParts(followers.filter((f) => !f.withLeader)),
    sameProcessLagMs: lags(followers.filter((f) => f.withLeader)),
    otherProcessLagMs: lags(followers.filter((f) => !f.withLeader)),
  };
}

async function coalescingCase(url) {
  const { rounds } = timings();
  const workers = await startWorkers(url);
  const run = Date.now().toString(36);
  try {
    // a round not counted: each process's first follow opens its blocking connection, once in its life
    await coalescingRound(workers, `warm-up ${run}`);
    const results = [];
    for (let r = 0; r < rounds; r++) {
      const round = await coalescingRound(workers, `coalescing ${run} round ${r}`);
      results.push(round);
      const followers = distribution(round.followerFirstPartMs);
      const lag = distribution([...round.sameProcessLagMs, ...round.otherProcessLagMs]);
      console.log(
        `  coalescing, round ${r + 1} of ${rounds}: ${round.modelCalls} model call(s) for ${round.calls} calls ` +
          `(${JSON.stringify(round.sources)}), ${round.complete} complete; followers' first part p50 ` +
          `${followers.p50.toFixed(2)} ms, p99 ${followers.p99.toFixed(2)} ms, max ${followers.max.toFixed(2)} ms ` +
          `from their start, p50 ${lag.p50?.toFixed(2)} ms, max ${lag.max?.toFixed(2)} ms after the leader's`,
      );
    }
    return { ...COALESCING, rounds: results };
  } finally {
    for (const worker of workers) worker.send({ type: 'exit' });
    await Promise.all(workers.map((worker) => once(worker, 'exit')));
  }
}

async function runResponses(url, admin) {
  await admin.flushall();
  const model = new CountedModel();
  const systems = [
    { key: 'ours', ...(await ours(url, model)) },
    { key: 'recipe', ...(await recipe(url, model)) },
  ];
  try {
    const hits = await hitCase(admin, systems, model);
    const replay = await replayCase(systems, model);
    const coalescing = await coalescingCase(url);
    return { hits: { promptCount: PROMPTS, answerTokens: ANSWER_TOKENS, systems: hits }, replay, coalescing };
  } finally {
    await Promise.all(systems.map((system) => system.close()));
  }
}

module.exports = { runResponses };
