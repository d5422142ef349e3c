'use strict';
// The caching middleware of the AI SDK's docs ("Caching Responses", docs/06-advanced/04-caching.mdx of the ai
// package installed, 6.0.326), as they give it, on raw Redis: the docs' client is @upstash/redis, whose get and
// set parse and write JSON themselves; here the library's ioredis, with JSON.parse and JSON.stringify in their
// place. Nothing else is changed: the key is the JSON of the provider, the model id and every parameter; no TTL,
// no tenant; a stream is stored in flush whatever happened, and replayed with 10 ms between parts.

const { TransformStream } = require('node:stream/web');
const { simulateReadableStream } = require('ai');

function cacheMiddleware(redis) {
  return {
    wrapGenerate: async ({ doGenerate, params, model }) => {
      const cacheKey = JSON.stringify({
        provider: model.provider,
        modelId: model.modelId,
        params,
      });

      const text = await redis.get(cacheKey);
      const cached = text === null ? null : JSON.parse(text);

      if (cached !== null) {
        return {
          ...cached,
          response: {
            ...cached.response,
            timestamp: cached?.response?.timestamp ? new Date(cached?.response?.timestamp) : undefined,
          },
        };
      }

      const result = await doGenerate();

      redis.set(cacheKey, JSON.stringify(result));

      return result;
    },
    wrapStream: async ({ doStream, params, model }) => {
      const cacheKey = JSON.stringify({
        provider: model.provider,
        modelId: model.modelId,
        params,
      });

      // Check if the result is in the cache
      const text = await redis.get(cacheKey);
      const cached = text === null ? null : JSON.parse(text);

      // If cached, return a simulated ReadableStream that yields the cached result
      if (cached !== null) {
        // Format the timestamps in the cached response
        const formattedChunks = cached.map((p) => {
          if (p.type === 'response-metadata' && p.timestamp) {
            return { ...p, timestamp: new Date(p.timestamp) };
          } else return p;
        });
        return {
          stream: simulateReadableStream({
            initialDelayInMs: 0,
            chunkDelayInMs: 10,
            chunks: formattedChunks,
          }),
        };
      }

      // If not cached, proceed with streaming
      const { stream, ...rest } = await doStream();

      const fullResponse = [];

      const transformStream = new TransformStream({
        transform(chunk, controller) {
          fullResponse.push(chunk);
          controller.enqueue(chunk);
        },
        flush() {
          // Store the full response in the cache after streaming is complete
          redis.set(cacheKey, JSON.stringify(fullResponse));
        },
      });

      return {
        stream: stream.pipeThrough(transformStream),
        ...rest,
      };
    },
  };
}

module.exports = { cacheMiddleware };
