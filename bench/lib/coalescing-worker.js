'use strict';
// One of the processes of the coalescing case (bench/responses.js forks them): its own Redis client, response
// cache and model, as an app instance has. Each round the parent names a prompt and a wall-clock start; at that
// time this process starts its share of the identical calls at once, each through the AI SDK middleware, and
// reports how each was answered, when its first and last parts came (from the call's start, on this process's
// clock; and the first part's time on the machine's clock, performance.timeOrigin + now, which the processes share,
// to compare a follower's with its leader's), and how many times its model was called.

const { wrapLanguageModel } = require('ai');
const { responseCacheMiddleware } = require('../../libs/redis-cache/dist/ai-sdk');
const { ResponseCacheService, createCacheRedis } = require('../../libs/redis-cache/dist/client');
const { CountedModel } = require('./local-model');
const { ready } = require('./redis');

/** One call: through a middleware of its own, so that its onSource says how this call was answered. */
async function call(model, cache, params) {
  let source;
  const wrapped = wrapLanguageModel({
    model,
    middleware: responseCacheMiddleware({ cache, tenant: 'bench-coalescing', onSource: (s) => (source = s) }),
  });
  const started = performance.now();
  const { stream } = await wrapped.doStream(params);
  let firstPartMs;
  let parts = 0;
  let text = '';
  let finished = false;
  let firstPartAt;
  for await (const part of stream) {
    if (firstPartMs === undefined) {
      firstPartMs = performance.now() - started;
      firstPartAt = performance.timeOrigin + performance.now();
    }
    parts++;
    if (part.type === 'text-delta') text += part.delta;
    if (part.type === 'finish') finished = true;
  }
  return { source, firstPartMs, firstPartAt, lastPartMs: performance.now() - started, parts, text, finished };
}

async function main() {
  const { url, tokenLatencyMs } = JSON.parse(process.argv[2]);
  const client = await ready(createCacheRedis(url));
  const cache = new ResponseCacheService(client);
  const model = new CountedModel({ tokenLatencyMs });
  process.on('message', async (message) => {
    if (message.type === 'exit') {
      await cache.close();
      await client.quit();
      process.disconnect();
      return;
    }
    const { prompt, calls, maxOutputTokens, at } = message;
    const params = { prompt: [{ role: 'user', content: [{ type: 'text', text: prompt }] }], maxOutputTokens };
    const before = model.calls;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
    const results = await Promise.all(Array.from({ length: calls }, () => call(model, cache, params)));
    process.send({ type: 'done', results, modelCalls: model.calls - before });
  });
  process.send({ type: 'ready' });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
