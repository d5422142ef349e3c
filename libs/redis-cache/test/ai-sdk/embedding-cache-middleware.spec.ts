import type { Redis } from 'ioredis';
import { APICallError, embed, embedMany, wrapEmbeddingModel } from 'ai';
import * as aiTest from 'ai/test';
import {
  EmbeddingCacheService,
  RedisCacheInputError,
  createCacheRedis,
  type EmbeddingCacheOptions,
} from '@wbot/redis-cache';
import {
  embeddingCacheMiddleware,
  type EmbeddingCacheUserId,
  type EmbeddingCallOptions,
} from '@wbot/redis-cache/ai-sdk';
import { inspector, waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { until } from '../../../../test/support/until';
import { embeddingStats } from '../../../../test/support/cache-stats';
import { entryCommands, serving } from '../support/near-cache';

/**
 * The middleware through the real AI SDK's `embed` and `embedMany`, on a private
 * redis-server. The `integration` project runs this file on ai 6, the `ai7`
 * project on ai 7 (each with its own mock model, V3 or V4).
 */

/** The newest mock embedding model of the `ai` under test: V4 on ai 7, V3 on ai 6. */
const MockEmbeddingModel = ((aiTest as unknown as Record<string, unknown>).MockEmbeddingModelV4 ??
  aiTest.MockEmbeddingModelV3) as typeof aiTest.MockEmbeddingModelV3;
type MockModel = InstanceType<typeof MockEmbeddingModel>;

/** A generous deadline: these tests prove behaviour, and a slow machine must not turn a call into a fallback. */
const RUNTIME_DEADLINE_MS = 5000;

let server: RedisServer;
let client: Redis;
let inspect: Redis;
let logged: string[];

function connect(url: string): Redis {
  // a 50 ms disconnectTimeout: ioredis's default 2 s timer on a closed socket would keep Jest from exiting
  return createCacheRedis(url, { commandTimeout: RUNTIME_DEADLINE_MS, disconnectTimeout: 50 });
}

function embeddingCache(options: EmbeddingCacheOptions = {}, redis: Redis = client): EmbeddingCacheService {
  return new EmbeddingCacheService(redis, options, {
    deadlineMs: RUNTIME_DEADLINE_MS,
    logger: { warn: (message) => logged.push(message) },
  });
}

const codeSum = (text: string): number => [...text].reduce((sum, character) => sum + character.charCodeAt(0), 0);

/** The mock model's vector of a text: exact float32 elements, different for every text here, times `scale`. */
function vectorOf(text: string, scale = 1): number[] {
  return [text.length * scale, codeSum(text) * scale, (-codeSum(text) / 8) * scale];
}

/**
 * A model that embeds each text as `vectorOf(text, providerOptions.mock.scale)`
 * and counts one token per character. Each call reports its number in its
 * response headers, provider metadata and one warning. It waits for `gate`, if
 * given, before it answers.
 */
function mockModel({ gate, modelId }: { gate?: Promise<void>; modelId?: string } = {}): MockModel {
  let calls = 0;
  return new MockEmbeddingModel({
    modelId,
    maxEmbeddingsPerCall: null,
    doEmbed: async ({ values, providerOptions }) => {
      const call = String(++calls);
      await gate;
      const scale = providerOptions?.mock?.scale;
      return {
        embeddings: values.map((value) => vectorOf(value, typeof scale === 'number' ? scale : 1)),
        usage: { tokens: values.join('').length },
        warnings: [{ type: 'other', message: `model call ${call}` }],
        response: { headers: { 'x-model-call': call } },
        providerMetadata: { mock: { call } },
      };
    },
  });
}

/** Every call's values, in the order the model got them. */
const received = (model: MockModel): string[][] => model.doEmbedCalls.map((call) => call.values);

function cached(model: MockModel, userId: EmbeddingCacheUserId = 'alice', cache = embeddingCache()) {
  return wrapEmbeddingModel({ model, middleware: embeddingCacheMiddleware({ cache, userId }) });
}

/** A promise that resolves when `release` is called. */
function gate(): { held: Promise<void>; release: () => void } {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  return { held, release };
}

/** The interface version of the models `wrapEmbeddingModel` returns: v3 on ai 6, v4 on ai 7. */
const specificationVersion = wrapEmbeddingModel({
  model: new MockEmbeddingModel(),
  middleware: [],
}).specificationVersion;

const aiWarnings = globalThis as { AI_SDK_LOG_WARNINGS?: unknown };
const logWarnings = aiWarnings.AI_SDK_LOG_WARNINGS;

beforeAll(async () => {
  // the mock model's warnings are asserted on the results; the AI SDK would also print each one
  aiWarnings.AI_SDK_LOG_WARNINGS = false;
  server = await RedisServer.start();
  client = connect(server.url);
  await waitUntilReady(client);
  inspect = await inspector(server.url);
});

afterAll(async () => {
  aiWarnings.AI_SDK_LOG_WARNINGS = logWarnings;
  client.disconnect();
  inspect.disconnect();
  await server.stop();
});

beforeEach(async () => {
  logged = [];
  await inspect.flushall();
});

describe(`embeddingCacheMiddleware through embed and embedMany, with ${specificationVersion} models`, () => {
  describe('hits and misses', () => {
    it('sends the values of a cold call to the model once, in one call, and returns their vectors in input order', async () => {
      const model = mockModel();
      const result = await embedMany({ model: cached(model), values: ['alpha', 'beta', 'gamma'] });

      expect(result.embeddings).toEqual([vectorOf('alpha'), vectorOf('beta'), vectorOf('gamma')]);
      expect(received(model)).toEqual([['alpha', 'beta', 'gamma']]);
      expect(result.usage).toEqual({ tokens: 14 });
    });

    it('answers a repeated call from Redis alone: no model call, 0 tokens, no warnings, response or provider metadata', async () => {
      const model = mockModel();
      const wrapped = cached(model);
      await embedMany({ model: wrapped, values: ['alpha', 'beta'] });

      const repeated = await embedMany({ model: wrapped, values: ['alpha', 'beta'] });
      expect(repeated.embeddings).toEqual([vectorOf('alpha'), vectorOf('beta')]);
      expect(received(model)).toEqual([['alpha', 'beta']]);
      expect(repeated.usage).toEqual({ tokens: 0 });
      expect(repeated.warnings).toEqual([]);
      expect(repeated.providerMetadata).toBeUndefined();
      expect(repeated.responses).toEqual([undefined]);
    });

    it("answers a repeated call from the cache's near cache, with neither a model call nor a Redis call", async () => {
      const model = mockModel();
      const cache = await serving(embeddingCache({ nearCache: { maxBytes: 100_000 } }));
      try {
        const wrapped = cached(model, 'alice', cache);
        await embedMany({ model: wrapped, values: ['alpha', 'beta'] });
        await embedMany({ model: wrapped, values: ['alpha', 'beta'] });
        const before = await entryCommands([inspect]);

        const repeated = await embedMany({ model: wrapped, values: ['beta', 'alpha'] });
        expect(repeated.embeddings).toEqual([vectorOf('beta'), vectorOf('alpha')]);
        expect(repeated.usage).toEqual({ tokens: 0 });
        expect(received(model)).toEqual([['alpha', 'beta']]);
        expect(await entryCommands([inspect])).toBe(before);
        expect(cache.stats()).toEqual(embeddingStats({ hits: 4, misses: 2, writes: 2, nearHits: 2 }));
      } finally {
        await cache.close();
      }
    });

    it('on a partial hit sends only the misses, and gives every position its own vector', async () => {
      const model = mockModel();
      const wrapped = cached(model);
      await embedMany({ model: wrapped, values: ['alpha', 'gamma'] });

      // misses first, between the hits and last: a vector put at the wrong position shows at once
      const result = await embedMany({ model: wrapped, values: ['beta', 'alpha', 'delta', 'gamma', 'epsilon'] });
      expect(result.embeddings).toEqual([
        vectorOf('beta'),
        vectorOf('alpha'),
        vectorOf('delta'),
        vectorOf('gamma'),
        vectorOf('epsilon'),
      ]);
      expect(received(model)).toEqual([
        ['alpha', 'gamma'],
        ['beta', 'delta', 'epsilon'],
      ]);
      expect(result.usage).toEqual({ tokens: 'beta'.length + 'delta'.length + 'epsilon'.length });
    });

    it("reports a partial hit's model call: its warnings, its response and its provider metadata", async () => {
      const model = mockModel();
      const wrapped = cached(model);
      await embedMany({ model: wrapped, values: ['alpha'] });

      const result = await embedMany({ model: wrapped, values: ['alpha', 'beta'] });
      expect(result.warnings).toEqual([{ type: 'other', message: 'model call 2' }]);
      expect(result.responses).toEqual([{ headers: { 'x-model-call': '2' } }]);
      expect(result.providerMetadata).toEqual({ mock: { call: '2' } });
    });

    it('sends a value given several times in one call to the model once, and fills each of its positions', async () => {
      const model = mockModel();
      const wrapped = cached(model);
      await embedMany({ model: wrapped, values: ['gamma'] });

      const result = await embedMany({ model: wrapped, values: ['beta', 'alpha', 'beta', 'gamma', 'alpha'] });
      expect(result.embeddings).toEqual([
        vectorOf('beta'),
        vectorOf('alpha'),
        vectorOf('beta'),
        vectorOf('gamma'),
        vectorOf('alpha'),
      ]);
      expect(received(model)).toEqual([['gamma'], ['beta', 'alpha']]);
      expect(result.usage).toEqual({ tokens: 'beta'.length + 'alpha'.length });
    });

    it('caches what embed embeds: the same value again, alone or in embedMany, makes no model call', async () => {
      const model = mockModel();
      const wrapped = cached(model);

      const first = await embed({ model: wrapped, value: 'alpha' });
      const second = await embed({ model: wrapped, value: 'alpha' });
      const many = await embedMany({ model: wrapped, values: ['alpha', 'alpha'] });

      expect([first.embedding, second.embedding]).toEqual([vectorOf('alpha'), vectorOf('alpha')]);
      expect([first.usage, second.usage]).toEqual([{ tokens: 5 }, { tokens: 0 }]);
      expect(many.embeddings).toEqual([vectorOf('alpha'), vectorOf('alpha')]);
      expect(received(model)).toEqual([['alpha']]);
    });

    it('returns a vector that missed as the cache stores it (float32), so it is the same when it later hits', async () => {
      const model = new MockEmbeddingModel({
        doEmbed: async () => ({ embeddings: [[0.1, 1 / 3]], warnings: [] }),
      });
      const wrapped = cached(model);

      const missed = await embed({ model: wrapped, value: 'alpha' });
      const hit = await embed({ model: wrapped, value: 'alpha' });
      expect(missed.embedding).toEqual([Math.fround(0.1), Math.fround(1 / 3)]);
      expect(hit.embedding).toEqual(missed.embedding);
      expect(model.doEmbedCalls).toHaveLength(1);
    });

    it('passes the call through to the model unchanged but for its values: provider options and headers included', async () => {
      const model = mockModel();
      await embedMany({
        model: cached(model),
        values: ['alpha', 'beta'],
        providerOptions: { mock: { scale: 2 } },
        headers: { 'x-app': 'demo' },
      });
      const [call] = model.doEmbedCalls;
      expect(call.values).toEqual(['alpha', 'beta']);
      expect(call.providerOptions).toEqual({ mock: { scale: 2 } });
      expect(call.headers).toMatchObject({ 'x-app': 'demo' });
    });
  });

  describe('single-flight', () => {
    it('lets concurrent calls that miss one value share its model call, each reporting only the tokens it sent', async () => {
      const { held, release } = gate();
      const model = mockModel({ gate: held });
      const wrapped = cached(model);

      const first = embedMany({ model: wrapped, values: ['alpha', 'beta'] });
      await until(() => model.doEmbedCalls.length === 1);
      // 'beta' is under way in the first call's model call; only 'gamma' is the second call's to send
      const second = embedMany({ model: wrapped, values: ['beta', 'gamma'] });
      await until(() => model.doEmbedCalls.length === 2);
      release();

      const [one, two] = await Promise.all([first, second]);
      expect(one.embeddings).toEqual([vectorOf('alpha'), vectorOf('beta')]);
      expect(two.embeddings).toEqual([vectorOf('beta'), vectorOf('gamma')]);
      expect(received(model)).toEqual([['alpha', 'beta'], ['gamma']]);
      expect([one.usage, two.usage]).toEqual([{ tokens: 9 }, { tokens: 5 }]);
    });

    it('makes one model call for 10 concurrent embeds of one value, and counts its tokens once', async () => {
      const { held, release } = gate();
      const model = mockModel({ gate: held });
      const wrapped = cached(model);

      const calls = Array.from({ length: 10 }, () => embed({ model: wrapped, value: 'alpha' }));
      await until(() => model.doEmbedCalls.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      release();

      const results = await Promise.all(calls);
      expect(results.map((result) => result.embedding)).toEqual(calls.map(() => vectorOf('alpha')));
      expect(received(model)).toEqual([['alpha']]);
      expect(results.map((result) => result.usage.tokens).sort()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    });
  });

  describe('users', () => {
    it('keeps users apart, reading each call’s user from its provider options through the userId function', async () => {
      const model = mockModel();
      const userId = jest.fn(({ providerOptions }: EmbeddingCallOptions) => providerOptions?.app?.userId as string);
      const wrapped = cached(model, userId);
      const as = (user: string) => ({ model: wrapped, value: 'alpha', providerOptions: { app: { userId: user } } });

      await embed(as('alice'));
      await embed(as('bob'));
      await embed(as('alice'));
      await embed(as('bob'));

      expect(received(model)).toEqual([['alpha'], ['alpha']]);
      expect(userId).toHaveBeenCalledTimes(4);
      expect(userId.mock.calls[0][0]).toMatchObject({
        values: ['alpha'],
        providerOptions: { app: { userId: 'alice' } },
      });
      expect(await inspect.keys('wbot:emb:*')).toHaveLength(4); // each user's vectors and LRU index
    });
  });

  describe('what decides a vector besides the value', () => {
    it('caches per provider options: other options go to the model and get their own vector, key order aside', async () => {
      const model = mockModel();
      const wrapped = cached(model);
      const scaled = (scale: number) => ({ model: wrapped, value: 'alpha', providerOptions: { mock: { scale } } });

      const double = await embed(scaled(2));
      const triple = await embed(scaled(3));
      expect(double.embedding).toEqual(vectorOf('alpha', 2));
      expect(triple.embedding).toEqual(vectorOf('alpha', 3));
      expect((await embed(scaled(2))).embedding).toEqual(vectorOf('alpha', 2));
      expect((await embed(scaled(3))).embedding).toEqual(vectorOf('alpha', 3));
      expect(model.doEmbedCalls).toHaveLength(2);

      await embed({ model: wrapped, value: 'beta', providerOptions: { mock: { scale: 2, tag: 'x' } } });
      await embed({ model: wrapped, value: 'beta', providerOptions: { mock: { tag: 'x', scale: 2 } } });
      expect(model.doEmbedCalls).toHaveLength(3);
    });

    it('caches per model: another model on the same cache and user gets its own vectors', async () => {
      const cache = embeddingCache();
      const small = mockModel({ modelId: 'small' });
      const large = mockModel({ modelId: 'large' });

      await embed({ model: cached(small, 'alice', cache), value: 'alpha' });
      await embed({ model: cached(large, 'alice', cache), value: 'alpha' });
      await embed({ model: cached(small, 'alice', cache), value: 'alpha' });

      expect([received(small), received(large)]).toEqual([[['alpha']], [['alpha']]]);
    });
  });

  describe('provider options that are not JSON', () => {
    it('sends a call whose provider options hold a BigInt to the model, uncached, every time', async () => {
      const model = mockModel();
      const cache = embeddingCache();
      const wrapped = cached(model, 'alice', cache);
      const providerOptions = { mock: { scale: 2, seed: 10n } } as unknown as Parameters<
        typeof embed
      >[0]['providerOptions'];
      for (let i = 0; i < 2; i++) {
        const result = await embedMany({ model: wrapped, values: ['alpha', 'beta'], providerOptions });
        expect(result.embeddings).toEqual([vectorOf('alpha', 2), vectorOf('beta', 2)]);
        expect(result.usage).toEqual({ tokens: 9 });
      }
      expect(received(model)).toEqual([
        ['alpha', 'beta'],
        ['alpha', 'beta'],
      ]);
      expect(model.doEmbedCalls.map((call) => call.providerOptions)).toEqual([providerOptions, providerOptions]);
      // the cache was neither read nor written
      expect(cache.stats()).toEqual(embeddingStats({}));
      expect(await inspect.dbsize()).toBe(0);
    });
  });

  describe('batches', () => {
    it("splits an embedMany past the cache's maxBatchSize into batches it takes, each sending its own misses", async () => {
      const model = mockModel();
      const wrapped = cached(model, 'alice', embeddingCache({ maxBatchSize: 2 }));
      await embed({ model: wrapped, value: 'gamma' });

      const result = await embedMany({ model: wrapped, values: ['alpha', 'beta', 'gamma', 'delta', 'epsilon'] });
      expect(result.embeddings).toEqual(['alpha', 'beta', 'gamma', 'delta', 'epsilon'].map((text) => vectorOf(text)));
      expect(received(model)).toEqual([['gamma'], ['alpha', 'beta'], ['delta'], ['epsilon']]);
      expect(result.usage).toEqual({ tokens: 9 + 5 + 7 });
    });

    it('resolves an embedMany whose vectors pass maxCallBytes, 1,000 of 3,072 dimensions in 8 MiB, and caches them all', async () => {
      // exact float32 elements, different for every value
      const vectorOfValue = (value: string) => Array.from({ length: 3072 }, (_, j) => Number(value.slice(1)) + j / 4);
      const model = new MockEmbeddingModel({
        maxEmbeddingsPerCall: null,
        doEmbed: async ({ values }) => ({
          embeddings: values.map(vectorOfValue),
          usage: { tokens: values.length },
          warnings: [],
        }),
      });
      const cache = embeddingCache({ maxCallBytes: 8 * 1024 * 1024 });
      const values = Array.from({ length: 1000 }, (_, i) => `v${i}`);

      const { embeddings } = await embedMany({ model: cached(model, 'alice', cache), values });
      // element by element: toEqual on 3 million numbers takes seconds
      expect(embeddings).toHaveLength(1000);
      const wrong = embeddings.findIndex((got, i) => got.length !== 3072 || got.some((x, j) => x !== i + j / 4));
      expect(wrong).toBe(-1);
      expect(received(model)).toEqual([values]);
      // written in two parts, of 682 and 318 vectors (12,288 bytes each)
      expect(cache.stats()).toMatchObject({ writes: 1000, fallbacks: 0 });
      await embedMany({ model: cached(model, 'alice', cache), values });
      expect(received(model)).toHaveLength(1);
    }, 30_000);
  });

  describe('model failures', () => {
    it("rejects with the model's own error, caches nothing, and asks the model again next time", async () => {
      const failure = new Error('the provider is down');
      let failing = true;
      const model = new MockEmbeddingModel({
        doEmbed: async ({ values }) => {
          if (failing) throw failure;
          return { embeddings: values.map((value) => vectorOf(value)), warnings: [] };
        },
      });
      const wrapped = cached(model);

      await expect(embed({ model: wrapped, value: 'alpha', maxRetries: 0 })).rejects.toBe(failure);
      failing = false;
      expect((await embed({ model: wrapped, value: 'alpha' })).embedding).toEqual(vectorOf('alpha'));
      expect(received(model)).toEqual([['alpha'], ['alpha']]);
    });

    it('lets the AI SDK retry a retryable model error, and caches the vector of the attempt that succeeded', async () => {
      const model = new MockEmbeddingModel({
        doEmbed: async ({ values }) => {
          if (model.doEmbedCalls.length === 1) {
            throw new APICallError({
              message: 'rate limited',
              url: 'https://provider.test/embeddings',
              requestBodyValues: {},
              statusCode: 429,
              responseHeaders: { 'retry-after-ms': '1' },
              isRetryable: true,
            });
          }
          return { embeddings: values.map((value) => vectorOf(value)), warnings: [] };
        },
      });
      const wrapped = cached(model);

      expect((await embed({ model: wrapped, value: 'alpha', maxRetries: 1 })).embedding).toEqual(vectorOf('alpha'));
      expect((await embed({ model: wrapped, value: 'alpha' })).embedding).toEqual(vectorOf('alpha'));
      expect(received(model)).toEqual([['alpha'], ['alpha']]);
    });
  });

  describe('with Redis down', () => {
    it('still embeds every value through the model, in order, on a client of a closed port', async () => {
      const closed = await RedisServer.start();
      const url = closed.url;
      await closed.stop();
      const redis = connect(url);
      try {
        const model = mockModel();
        const wrapped = cached(model, 'alice', embeddingCache({}, redis));

        const result = await embedMany({ model: wrapped, values: ['beta', 'alpha', 'beta'] });
        expect(result.embeddings).toEqual([vectorOf('beta'), vectorOf('alpha'), vectorOf('beta')]);
        expect(result.usage).toEqual({ tokens: 9 });
        expect((await embed({ model: wrapped, value: 'alpha' })).embedding).toEqual(vectorOf('alpha'));
        expect(received(model)).toEqual([['beta', 'alpha'], ['alpha']]);
      } finally {
        redis.disconnect();
      }
    });

    it('embeds through the model what was cached before the server was killed', async () => {
      const doomed = await RedisServer.start();
      const redis = connect(doomed.url);
      try {
        await waitUntilReady(redis);
        const model = mockModel();
        const wrapped = cached(model, 'alice', embeddingCache({}, redis));
        await embed({ model: wrapped, value: 'alpha' });
        const closed = new Promise((resolve) => redis.once('close', resolve));
        await doomed.kill();
        await closed;

        const result = await embedMany({ model: wrapped, values: ['beta', 'alpha'] });
        expect(result.embeddings).toEqual([vectorOf('beta'), vectorOf('alpha')]);
        expect(received(model)).toEqual([['alpha'], ['beta', 'alpha']]);
      } finally {
        redis.disconnect();
        await doomed.stop();
      }
    });
  });

  describe('arguments', () => {
    function argumentOf(make: () => unknown): string {
      try {
        make();
      } catch (error) {
        expect(error).toBeInstanceOf(RedisCacheInputError);
        return (error as RedisCacheInputError).argument;
      }
      throw new Error('expected RedisCacheInputError, but nothing was thrown');
    }

    it('throws RedisCacheInputError naming options, cache or userId when one is missing or not as documented', () => {
      const cache = embeddingCache();
      const middleware = (options: unknown) => () => embeddingCacheMiddleware(options as never);
      expect(argumentOf(middleware(undefined))).toBe('options');
      expect(argumentOf(middleware({ userId: 'alice' }))).toBe('cache');
      expect(argumentOf(middleware({ cache: {}, userId: 'alice' }))).toBe('cache');
      expect(argumentOf(middleware({ cache }))).toBe('userId');
      expect(argumentOf(middleware({ cache, userId: 42 }))).toBe('userId');
      expect(argumentOf(middleware({ cache, userId: '' }))).toBe('userId');
    });

    it('rejects a call with RedisCacheInputError naming userId when the userId function gives no user id', async () => {
      const model = mockModel();
      const wrapped = cached(model, () => undefined as unknown as string);

      const error = await embed({ model: wrapped, value: 'alpha', maxRetries: 0 }).catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(RedisCacheInputError);
      expect((error as RedisCacheInputError).argument).toBe('userId');
      expect(model.doEmbedCalls).toHaveLength(0);
    });
  });
});
