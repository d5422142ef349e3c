import type { Redis } from 'ioredis';
import { generateText, jsonSchema, streamText, tool, wrapLanguageModel } from 'ai';
import {
  RedisCacheInputError,
  ResponseCacheService,
  createCacheRedis,
  type ResponseCacheOptions,
  type ResponseCacheStats,
} from '@wbot/redis-cache';
import { responseCacheMiddleware, type ResponseCacheMiddlewareOptions } from '@wbot/redis-cache/ai-sdk';
import { responseKeys } from '../../src/keys';
import { inspector, waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer, freePort } from '../../../../test/support/redis-server';
import { until } from '../../../../test/support/until';
import {
  CONTENT,
  NO_USAGE,
  PARTS,
  TIMESTAMP,
  USAGE,
  gate,
  partsOf,
  scriptedModel,
  specificationVersion,
  type CallOptions,
  type MockModel,
  type StreamPart,
} from './language-models';

/**
 * The response cache's middleware through the real AI SDK's `generateText` and `streamText` (and the wrapped
 * model's own `doGenerate` and `doStream`, where a test needs exact call parameters), on a private redis-server.
 * The `integration` project runs this file on ai 6, the `ai7` project on ai 7. Coalescing across processes is in
 * response-coalescing-process.spec.ts.
 */

/** A generous deadline: these tests prove behaviour, and a slow machine must not turn a call into a fallback. */
const DEADLINE_MS = 5000;

let server: RedisServer;
let client: Redis;
let inspect: Redis;
const caches: ResponseCacheService[] = [];

function responseCache(options: ResponseCacheOptions = {}, redis: Redis = client): ResponseCacheService {
  const cache = new ResponseCacheService(redis, options, {
    deadlineMs: DEADLINE_MS,
    logger: { warn: () => undefined },
  });
  caches.push(cache);
  return cache;
}

type Middleware = Omit<ResponseCacheMiddlewareOptions, 'cache' | 'tenant'> & Partial<ResponseCacheMiddlewareOptions>;

function cached(model: MockModel, options: Middleware = {}) {
  const middleware = responseCacheMiddleware({ cache: options.cache ?? responseCache(), tenant: 'alice', ...options });
  return wrapLanguageModel({ model, middleware });
}

/** A prompt of one user message, as the model gets it. */
function userPrompt(text: string): CallOptions['prompt'] {
  return [{ role: 'user', content: [{ type: 'text', text }] }];
}

const tools = { weather: tool({ description: 'The weather in a city', inputSchema: jsonSchema({ type: 'object' }) }) };

/** Every model call, generate and stream. */
const modelCalls = (model: MockModel) => model.doGenerateCalls.length + model.doStreamCalls.length;

const stats = (cache: ResponseCacheService, counters: (keyof ResponseCacheStats)[]) =>
  Object.fromEntries(counters.map((counter) => [counter, cache.stats()[counter]]));

beforeAll(async () => {
  server = await RedisServer.start();
  client = createCacheRedis(server.url, { commandTimeout: DEADLINE_MS, disconnectTimeout: 50 });
  await waitUntilReady(client);
  inspect = await inspector(server.url);
});

afterAll(async () => {
  client.disconnect();
  inspect.disconnect();
  await server.stop();
});

beforeEach(async () => {
  await inspect.flushall();
});

afterEach(async () => {
  await Promise.all(caches.splice(0).map((cache) => cache.close()));
});

describe(`responseCacheMiddleware through generateText and streamText, with ${specificationVersion} models`, () => {
  describe('hits', () => {
    it("answers a repeated generateText from Redis with the model's answer: text, reasoning, tool calls, finish reason, response metadata (timestamp a Date); zero usage, the model's in providerMetadata.wbotCache with hit: true", async () => {
      const model = scriptedModel();
      const cache = responseCache();
      const wrapped = cached(model, { cache });
      const miss = await generateText({ model: wrapped, prompt: 'Weather in Paris?', tools });
      const hit = await generateText({ model: wrapped, prompt: 'Weather in Paris?', tools });

      expect(modelCalls(model)).toBe(1);
      expect(miss.providerMetadata).toEqual({ mock: { cost: 7 } });
      expect(miss.usage.inputTokens).toBe(12);
      expect(hit.text).toBe('Let me look.');
      expect(hit.reasoningText).toBe('The user wants the weather.');
      expect(hit.toolCalls.map(({ toolCallId, toolName, input }) => ({ toolCallId, toolName, input }))).toEqual([
        { toolCallId: 'call-1', toolName: 'weather', input: { city: 'Paris' } },
      ]);
      expect(hit.content).toEqual(miss.content);
      expect(hit.finishReason).toBe('tool-calls');
      expect(hit.response.timestamp).toBeInstanceOf(Date);
      expect(hit.response.timestamp.toISOString()).toBe(TIMESTAMP.toISOString());
      expect([hit.response.id, hit.response.modelId]).toEqual(['response-1', 'mock-model-2026']);
      expect([hit.usage.inputTokens, hit.usage.outputTokens, hit.usage.totalTokens]).toEqual([0, 0, 0]);
      expect(hit.providerMetadata).toEqual({ mock: { cost: 7 }, wbotCache: { hit: true, usage: USAGE } });
      expect(stats(cache, ['hits', 'misses', 'writes'])).toEqual({ hits: 1, misses: 1, writes: 1 });
    });

    it("answers a repeated streamText from Redis with every part of the model's stream, in order, the finish with zero usage and the model's in providerMetadata.wbotCache", async () => {
      const model = scriptedModel();
      const wrapped = cached(model);
      const params = { prompt: userPrompt('Weather in Paris?') };
      const missed = await wrapped.doStream(params);
      expect(await partsOf(missed.stream)).toEqual(PARTS);
      const hit = await wrapped.doStream(params);

      const finish = { ...PARTS.at(-1)!, usage: NO_USAGE } as StreamPart & { providerMetadata: unknown };
      finish.providerMetadata = { mock: { cost: 7 }, wbotCache: { hit: true, usage: USAGE } };
      expect(await partsOf(hit.stream)).toEqual([...PARTS.slice(0, -1), finish]);
      expect(model.doStreamCalls).toHaveLength(1);
      expect(missed.response).toEqual({ headers: { 'x-model-call': '1' } });
      expect(hit.response).toBeUndefined();
    });

    it('gives streamText from the cache the text, reasoning, tool calls, finish reason and response timestamp (a Date)', async () => {
      const model = scriptedModel();
      const wrapped = cached(model);
      await streamText({ model: wrapped, prompt: 'Weather in Paris?', tools }).consumeStream();
      const hit = streamText({ model: wrapped, prompt: 'Weather in Paris?', tools });

      expect(await hit.text).toBe('Let me look.');
      expect(await hit.reasoningText).toBe('The user wants the weather.');
      expect((await hit.toolCalls).map(({ toolName, input }) => ({ toolName, input }))).toEqual([
        { toolName: 'weather', input: { city: 'Paris' } },
      ]);
      expect(await hit.finishReason).toBe('tool-calls');
      const { timestamp } = await hit.response;
      expect([timestamp instanceof Date, timestamp.getTime()]).toEqual([true, TIMESTAMP.getTime()]);
      expect((await hit.usage).totalTokens).toBe(0);
      expect(model.doStreamCalls).toHaveLength(1);
    });

    it('caches generate and stream calls apart', async () => {
      const model = scriptedModel();
      const wrapped = cached(model);
      await generateText({ model: wrapped, prompt: 'Hi' });
      await streamText({ model: wrapped, prompt: 'Hi' }).consumeStream();
      expect([model.doGenerateCalls.length, model.doStreamCalls.length]).toEqual([1, 1]);
    });

    it('replays a stream with replayDelayMs between parts when asked, at once by default', async () => {
      const model = scriptedModel();
      const cache = responseCache();
      const params = { prompt: userPrompt('Hi') };
      await partsOf((await cached(model, { cache }).doStream(params)).stream);

      const timedRead = async (replayDelayMs: number) => {
        const started = performance.now();
        const { stream } = await cached(model, { cache, replayDelayMs }).doStream(params);
        expect(await partsOf(stream)).toHaveLength(PARTS.length);
        return performance.now() - started;
      };
      // 14 gaps of 20 ms: at least 280 ms, where all at once takes a few
      expect(await timedRead(20)).toBeGreaterThanOrEqual(14 * 20 - 5);
      expect(await timedRead(0)).toBeLessThan(100);
    });
  });

  describe('keys', () => {
    const base: CallOptions = {
      prompt: [
        { role: 'system', content: 'Be brief.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe this' },
            { type: 'file', mediaType: 'image/png', data: new Uint8Array([1, 2, 3]) },
          ],
        },
      ],
      temperature: 0.2,
      tools: [
        {
          type: 'function',
          name: 'weather',
          inputSchema: { type: 'object', properties: { city: { type: 'string' } } },
        },
      ],
      toolChoice: { type: 'auto' },
      responseFormat: { type: 'text' },
      providerOptions: { openai: { user: 'u1', store: false } },
    };

    it('misses when the provider, the model, any prompt part (image bytes included), tool schema, toolChoice, responseFormat, setting or providerOptions differs', async () => {
      const model = scriptedModel();
      const cache = responseCache();
      const wrapped = cached(model, { cache });
      const variants: CallOptions[] = [
        base,
        { ...base, prompt: [base.prompt[0], { role: 'user', content: [{ type: 'text', text: 'Describe this' }] }] },
        { ...base, prompt: [{ role: 'system', content: 'Be long.' }, base.prompt[1]] },
        {
          ...base,
          prompt: [
            base.prompt[0],
            {
              role: 'user',
              content: [
                { type: 'text', text: 'Describe this' },
                { type: 'file', mediaType: 'image/png', data: new Uint8Array([1, 2, 4]) },
              ],
            },
          ],
        },
        { ...base, prompt: [...base.prompt, { role: 'assistant', content: [{ type: 'text', text: 'A cat.' }] }] },
        {
          ...base,
          tools: [
            {
              type: 'function',
              name: 'weather',
              inputSchema: { type: 'object', properties: { city: { type: 'number' } } },
            },
          ],
        },
        { ...base, toolChoice: { type: 'required' } },
        { ...base, responseFormat: { type: 'json', schema: { type: 'object' } } },
        ...(
          ['temperature', 'topP', 'topK', 'presencePenalty', 'frequencyPenalty', 'maxOutputTokens', 'seed'] as const
        ).map((setting) => ({ ...base, [setting]: 0.5 + (base[setting] ?? 0) })),
        { ...base, stopSequences: ['END'] },
        { ...base, providerOptions: { openai: { user: 'u2', store: false } } },
        { ...base, providerOptions: { openai: { user: 'u1', store: false }, anthropic: { cache: true } } },
      ];
      for (const params of variants) await wrapped.doGenerate(params);
      const otherModels = [
        scriptedModel({}, { modelId: 'other-model' }),
        scriptedModel({}, { provider: 'other-provider' }),
      ];
      for (const other of otherModels) await cached(other, { cache }).doGenerate(base);

      expect(model.doGenerateCalls).toHaveLength(variants.length);
      expect(otherModels.map((other) => other.doGenerateCalls.length)).toEqual([1, 1]);
      expect(cache.stats().hits).toBe(0);
    });

    it('hits when only the order of object keys, the headers or the abort signal differ', async () => {
      const model = scriptedModel();
      const wrapped = cached(model);
      await wrapped.doGenerate(base);
      const reordered: CallOptions = {
        providerOptions: { openai: { store: false, user: 'u1' } },
        responseFormat: { type: 'text' },
        toolChoice: { type: 'auto' },
        tools: [
          {
            inputSchema: { properties: { city: { type: 'string' } }, type: 'object' },
            name: 'weather',
            type: 'function',
          },
        ],
        temperature: 0.2,
        prompt: base.prompt,
        headers: { authorization: 'Bearer other', 'x-request-id': 'r2' },
        abortSignal: new AbortController().signal,
      };
      const { content } = await wrapped.doGenerate(reordered);
      expect(content).toEqual(CONTENT);
      expect(model.doGenerateCalls).toHaveLength(1);
    });

    it('keys BigInt provider options by value, and sends a call holding a value with no canonical form to the model every time, as a bypass', async () => {
      const model = scriptedModel();
      const cache = responseCache();
      const wrapped = cached(model, { cache });
      const withBig = (value: bigint) =>
        ({ ...base, providerOptions: { app: { budget: value } } }) as unknown as CallOptions;
      await wrapped.doGenerate(withBig(10n ** 20n));
      await wrapped.doGenerate(withBig(10n ** 20n));
      await wrapped.doGenerate(withBig(10n ** 20n + 1n));
      expect(model.doGenerateCalls).toHaveLength(2);

      const unkeyable = { ...base, providerOptions: { app: { score: new Map([['a', 1]]) } } } as unknown as CallOptions;
      await wrapped.doGenerate(unkeyable);
      await wrapped.doGenerate(unkeyable);
      expect(model.doGenerateCalls).toHaveLength(4);
      expect(stats(cache, ['hits', 'misses', 'bypasses'])).toEqual({ hits: 1, misses: 2, bypasses: 2 });
    });

    it("takes the app's own key function instead, whose null bypasses the cache", async () => {
      const model = scriptedModel();
      const cache = responseCache();
      const key = ({ params }: { params: CallOptions }) => (params.temperature === 1 ? null : 'one answer for all');
      const wrapped = cached(model, { cache, key });
      await wrapped.doGenerate({ prompt: userPrompt('first') });
      await wrapped.doGenerate({ prompt: userPrompt('second') });
      await wrapped.doGenerate({ prompt: userPrompt('second'), temperature: 1 });
      expect(model.doGenerateCalls).toHaveLength(2);
      expect(stats(cache, ['hits', 'misses', 'bypasses'])).toEqual({ hits: 1, misses: 1, bypasses: 1 });
    });

    it('stores only hashes: no key or value name holds the tenant id or the prompt', async () => {
      const wrapped = cached(scriptedModel(), { tenant: 'tenant-4711@example.com' });
      await generateText({ model: wrapped, prompt: 'my secret question' });
      const keys = await inspect.keys('*');
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((key) => /4711|secret/.test(key))).toEqual([]);
      expect(keys.every((key) => key.startsWith(responseKeys('tenant-4711@example.com').base))).toBe(true);
      const fields = await inspect.hkeys(responseKeys('tenant-4711@example.com').entries);
      expect(fields).toHaveLength(1);
      expect(fields[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });
  });

  describe('tenants', () => {
    it("never answers one tenant's call from another's response", async () => {
      const model = scriptedModel();
      const cache = responseCache();
      // headers are not in the key, so only the tenant tells these calls apart
      const tenant = (params: CallOptions) => params.headers!['x-tenant']!;
      const wrapped = cached(model, { cache, tenant });
      for (const who of ['alice', 'bob', 'alice', 'bob']) {
        await generateText({ model: wrapped, prompt: 'Same question', headers: { 'x-tenant': who } });
      }
      expect(model.doGenerateCalls).toHaveLength(2);
      expect(stats(cache, ['hits', 'misses'])).toEqual({ hits: 2, misses: 2 });
    });

    it("clearTenant removes that tenant's responses and no other's", async () => {
      const model = scriptedModel();
      const cache = responseCache();
      const tenant = (params: CallOptions) => params.headers!['x-tenant']!;
      const wrapped = cached(model, { cache, tenant });
      const ask = (who: string) =>
        generateText({ model: wrapped, prompt: 'Same question', headers: { 'x-tenant': who } });
      await ask('alice');
      await ask('bob');
      expect(await cache.clearTenant('alice')).toBe(true);
      await ask('alice');
      await ask('bob');
      expect(model.doGenerateCalls).toHaveLength(3);
      expect(cache.stats().clears).toBe(1);
    });

    it('rejects a call whose tenant function gives no valid tenant with RedisCacheInputError naming tenant', async () => {
      const model = scriptedModel();
      const wrapped = cached(model, { tenant: () => '' });
      await expect(generateText({ model: wrapped, prompt: 'Hi', maxRetries: 0 })).rejects.toThrow(
        expect.objectContaining({ name: 'RedisCacheInputError', argument: 'tenant' }) as Error,
      );
      expect(model.doGenerateCalls).toHaveLength(0);
    });
  });

  describe('never a failure', () => {
    it('stores no stream with an error part, and passes the part to its caller', async () => {
      const failing = { type: 'error', error: new Error('upstream overloaded') } as StreamPart;
      const model = scriptedModel((call) =>
        call === 1 ? { parts: [...PARTS.slice(0, 8), failing, ...PARTS.slice(8)] } : {},
      );
      const cache = responseCache();
      const wrapped = cached(model, { cache });
      const params = { prompt: userPrompt('Hi') };
      const first = await partsOf((await wrapped.doStream(params)).stream);
      expect(first).toContainEqual(failing);
      expect(await partsOf((await wrapped.doStream(params)).stream)).toEqual(PARTS);
      expect(model.doStreamCalls).toHaveLength(2);
      expect(stats(cache, ['hits', 'writes'])).toEqual({ hits: 0, writes: 1 });
    });

    it('stores no stream that ends without its finish, none whose finish reports an error, and no generate that reports one', async () => {
      const errorFinish = {
        type: 'finish',
        finishReason: { unified: 'error', raw: 'server_error' },
        usage: USAGE,
      } as StreamPart;
      const model = scriptedModel((call) =>
        call === 1 ? { parts: PARTS.slice(0, -1) } : call === 2 ? { parts: [...PARTS.slice(0, -1), errorFinish] } : {},
      );
      const cache = responseCache();
      const wrapped = cached(model, { cache });
      for (let i = 0; i < 3; i++) await partsOf((await wrapped.doStream({ prompt: userPrompt('Hi') })).stream);
      expect(model.doStreamCalls).toHaveLength(3);

      const failing = scriptedModel({ finishReason: { unified: 'error', raw: 'server_error' } });
      const failingWrapped = cached(failing, { cache });
      await failingWrapped.doGenerate({ prompt: userPrompt('Hi') });
      await failingWrapped.doGenerate({ prompt: userPrompt('Hi') });
      expect(failing.doGenerateCalls).toHaveLength(2);
      expect(cache.stats().writes).toBe(1);
    });

    it('stores no stream aborted mid-way, and aborts the model call when no other call waits for it', async () => {
      const held = gate();
      const model = scriptedModel((call) => (call === 1 ? { gate: held.opened, gateAt: 6 } : {}));
      const cache = responseCache();
      const wrapped = cached(model, { cache });
      const controller = new AbortController();
      const result = streamText({ model: wrapped, prompt: 'Hi', abortSignal: controller.signal });
      const seen: string[] = [];
      const reading = (async () => {
        for await (const part of result.fullStream) seen.push(part.type);
      })();
      await until(() => seen.includes('reasoning-end'));
      controller.abort();
      await reading.catch(() => undefined);
      await until(() => model.doStreamCalls[0].abortSignal?.aborted === true);
      held.open();

      await streamText({ model: wrapped, prompt: 'Hi' }).consumeStream();
      expect(model.doStreamCalls).toHaveLength(2);
      expect(stats(cache, ['hits', 'misses', 'writes'])).toEqual({ hits: 0, misses: 2, writes: 1 });
    });

    it('stores no generate that rejected, and rejects its caller with the model error', async () => {
      const model = scriptedModel((call) => (call === 1 ? { error: new Error('rate limited') } : {}));
      const wrapped = cached(model);
      await expect(generateText({ model: wrapped, prompt: 'Hi', maxRetries: 0 })).rejects.toThrow('rate limited');
      expect((await generateText({ model: wrapped, prompt: 'Hi' })).text).toBe('Let me look.');
      expect(model.doGenerateCalls).toHaveLength(2);
    });
  });

  describe('per-call controls in providerOptions.wbotCache', () => {
    it('noCache skips the lookup and still stores; noStore reads and stores nothing; the model never sees them', async () => {
      let answer = 0;
      const model = scriptedModel(() => ({ content: [{ type: 'text', text: `answer ${++answer}` }] }));
      const wrapped = cached(model);
      const ask = (wbotCache?: Record<string, boolean>) =>
        generateText({
          model: wrapped,
          prompt: 'Hi',
          providerOptions: { app: { v: 1 }, ...(wbotCache && { wbotCache }) },
        });

      expect((await ask({ noStore: true })).text).toBe('answer 1');
      expect((await ask()).text).toBe('answer 2');
      expect((await ask({ noStore: true })).text).toBe('answer 2');
      expect((await ask({ noCache: true })).text).toBe('answer 3');
      expect((await ask()).text).toBe('answer 3');
      expect(model.doGenerateCalls.map((call) => call.providerOptions)).toEqual([
        { app: { v: 1 } },
        { app: { v: 1 } },
        { app: { v: 1 } },
      ]);
    });

    it('rejects controls that are not booleans, a TTL out of range, or an unknown control, naming it', async () => {
      const wrapped = cached(scriptedModel());
      const cases: [object, string][] = [
        [{ noCache: 'yes' }, 'providerOptions.wbotCache.noCache'],
        [{ ttlSeconds: 0 }, 'providerOptions.wbotCache.ttlSeconds'],
        [{ nocache: true }, 'providerOptions.wbotCache.nocache'],
      ];
      for (const [wbotCache, argument] of cases) {
        const call = wrapped.doGenerate({ prompt: userPrompt('Hi'), providerOptions: { wbotCache } as never });
        await expect(call).rejects.toThrow(expect.objectContaining({ argument }) as Error);
        await expect(call).rejects.toBeInstanceOf(RedisCacheInputError);
      }
    });

    it("gives the response the call's ttlSeconds, or the cache's, from its store: hits do not extend it", async () => {
      const cache = responseCache({ ttlSeconds: 600 });
      const wrapped = cached(scriptedModel(), { cache });
      const { deadlines, entries } = responseKeys('alice');
      const secondsLeft = async () => {
        const [, deadline] = await inspect.zrange(deadlines, '0', '0', 'WITHSCORES');
        const [seconds, micros] = await inspect.time();
        return Math.round((Number(deadline) - Number(seconds) * 1e6 - Number(micros)) / 1e6);
      };
      await generateText({ model: wrapped, prompt: 'Hi', providerOptions: { wbotCache: { ttlSeconds: 30 } } });
      expect(await secondsLeft()).toBe(30);
      expect(Math.round((await inspect.pttl(entries)) / 1000)).toBe(30);
      await inspect.flushall();
      await generateText({ model: wrapped, prompt: 'Hi' });
      expect(await secondsLeft()).toBe(600);
      const [, storedAt] = await inspect.zrange(deadlines, '0', '0', 'WITHSCORES');
      await generateText({ model: wrapped, prompt: 'Hi' });
      expect((await inspect.zrange(deadlines, '0', '0', 'WITHSCORES'))[1]).toBe(storedAt);
    });

    it('serves a response for its TTL and no longer', async () => {
      const model = scriptedModel();
      const wrapped = cached(model);
      const ask = () =>
        generateText({ model: wrapped, prompt: 'Hi', providerOptions: { wbotCache: { ttlSeconds: 1 } } });
      await ask();
      await ask();
      expect(model.doGenerateCalls).toHaveLength(1);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await ask();
      expect(model.doGenerateCalls).toHaveLength(2);
    });
  });

  describe('coalescing in one process', () => {
    it('makes one model call for 20 identical generateText calls at once; the others get its answer, zero usage and coalesced: true', async () => {
      const held = gate();
      const model = scriptedModel({ gate: held.opened });
      const cache = responseCache();
      const wrapped = cached(model, { cache });
      const calls = Array.from({ length: 20 }, () => generateText({ model: wrapped, prompt: 'Popular question' }));
      await until(() => model.doGenerateCalls.length === 1);
      held.open();
      const results = await Promise.all(calls);

      expect(model.doGenerateCalls).toHaveLength(1);
      expect(new Set(results.map((result) => result.text))).toEqual(new Set(['Let me look.']));
      const coalesced = results.filter((result) => result.providerMetadata?.wbotCache);
      expect(coalesced).toHaveLength(19);
      expect(coalesced[0].providerMetadata?.wbotCache).toEqual({ coalesced: true, usage: USAGE });
      expect(coalesced[0].usage.totalTokens).toBe(0);
      expect(stats(cache, ['misses', 'coalesced', 'writes'])).toEqual({ misses: 1, coalesced: 19, writes: 1 });
    });

    it("makes one model call for 20 identical streamText calls at once, each of which gets every part, the first before the leader's last", async () => {
      const held = gate();
      const model = scriptedModel({ gate: held.opened, gateAt: 8 });
      const wrapped = cached(model);
      const params = { prompt: userPrompt('Popular question') };
      const streams = await Promise.all(Array.from({ length: 20 }, () => wrapped.doStream(params)));
      const readers = streams.map(({ stream }) => stream.getReader());
      // every caller has its first part while the model has not sent its ninth
      const firsts = await Promise.all(readers.map((reader) => reader.read()));
      expect(firsts.map(({ value }) => value)).toEqual(streams.map(() => PARTS[0]));
      expect(model.doStreamCalls).toHaveLength(1);
      held.open();
      const rests = await Promise.all(
        readers.map(async (reader) => {
          const parts: StreamPart[] = [];
          for (let read = await reader.read(); !read.done; read = await reader.read()) parts.push(read.value);
          return parts;
        }),
      );
      expect(rests.filter((parts) => parts.length === PARTS.length - 1)).toHaveLength(20);
      expect(rests.map((parts) => parts.slice(0, -1))).toEqual(streams.map(() => PARTS.slice(1, -1)));
      expect(model.doStreamCalls).toHaveLength(1);
    });

    it("goes on for the others when the leader's caller aborts, and stores the response", async () => {
      const held = gate();
      const model = scriptedModel({ gate: held.opened, gateAt: 4 });
      const cache = responseCache();
      const wrapped = cached(model, { cache });
      const controller = new AbortController();
      const params = { prompt: userPrompt('Hi') };
      const leader = await wrapped.doStream({ ...params, abortSignal: controller.signal });
      const follower = await wrapped.doStream(params);
      controller.abort();
      await expect(partsOf(leader.stream)).rejects.toThrow();
      held.open();
      expect(await partsOf(follower.stream)).toHaveLength(PARTS.length);
      expect(model.doStreamCalls[0].abortSignal?.aborted).toBe(false);
      await partsOf((await wrapped.doStream(params)).stream);
      expect(stats(cache, ['hits', 'misses', 'coalesced', 'writes'])).toEqual({
        hits: 1,
        misses: 1,
        coalesced: 1,
        writes: 1,
      });
    });

    it("lets one follower take over when the leader's model call fails; the others follow it", async () => {
      const held = gate();
      const model = scriptedModel((call) => (call === 1 ? { gate: held.opened, error: new Error('overloaded') } : {}));
      const cache = responseCache();
      const wrapped = cached(model, { cache });
      const params = { prompt: userPrompt('Hi') };
      const leader = wrapped.doGenerate(params);
      await until(() => model.doGenerateCalls.length === 1);
      const followers = Array.from({ length: 5 }, () => wrapped.doGenerate(params));
      // the followers reach the flight without I/O: they wait for it once the microtasks have run
      await new Promise((resolve) => setImmediate(resolve));
      held.open();
      await expect(leader).rejects.toThrow('overloaded');
      const results = await Promise.all(followers);
      expect(results.map((result) => result.content)).toEqual(results.map(() => CONTENT));
      expect(model.doGenerateCalls).toHaveLength(2);
      expect(stats(cache, ['misses', 'coalesced', 'takeovers'])).toEqual({ misses: 2, coalesced: 4, takeovers: 1 });
    });

    it('calls the model itself once its leader has kept it waiting coalesceTimeoutMs', async () => {
      const held = gate();
      const model = scriptedModel((call) => (call === 1 ? { gate: held.opened } : {}));
      const cache = responseCache({ coalesceTimeoutMs: 200 });
      const wrapped = cached(model, { cache });
      const leader = generateText({ model: wrapped, prompt: 'Hi' });
      await until(() => model.doGenerateCalls.length === 1);
      const started = performance.now();
      expect((await generateText({ model: wrapped, prompt: 'Hi' })).text).toBe('Let me look.');
      expect(performance.now() - started).toBeGreaterThanOrEqual(195);
      expect(model.doGenerateCalls).toHaveLength(2);
      held.open();
      await leader;
      expect(cache.stats().takeovers).toBe(1);
    });
  });

  it('sends every call to the model with Redis down, each in its own model call, without an error', async () => {
    const down = createCacheRedis(`redis://127.0.0.1:${await freePort()}`);
    try {
      const cache = responseCache({}, down);
      const model = scriptedModel();
      const wrapped = cached(model, { cache });
      expect((await generateText({ model: wrapped, prompt: 'Hi' })).text).toBe('Let me look.');
      expect((await generateText({ model: wrapped, prompt: 'Hi' })).text).toBe('Let me look.');
      expect(await streamText({ model: wrapped, prompt: 'Hi' }).text).toBe('Let me look.');
      expect(await streamText({ model: wrapped, prompt: 'Hi' }).text).toBe('Let me look.');
      expect(modelCalls(model)).toBe(4);
      expect(stats(cache, ['misses', 'writes'])).toEqual({ misses: 4, writes: 0 });
      expect(cache.stats().fallbacks).toBeGreaterThanOrEqual(4);
    } finally {
      down.disconnect();
    }
  });

  it('tells onSource how each call is answered', async () => {
    const sources: string[] = [];
    const wrapped = cached(scriptedModel(), { onSource: (source, type) => sources.push(`${type} ${source}`) });
    await generateText({ model: wrapped, prompt: 'Hi' });
    await generateText({ model: wrapped, prompt: 'Hi' });
    await streamText({ model: wrapped, prompt: 'Hi' }).consumeStream();
    expect(sources).toEqual(['generate miss', 'generate hit', 'stream miss']);
  });

  it('rejects middleware options that are not as described, naming them', () => {
    const cache = responseCache();
    const cases: [unknown, string][] = [
      [null, 'options'],
      [{ cache: {}, tenant: 'a' }, 'cache'],
      [{ cache, tenant: 1 }, 'tenant'],
      [{ cache, tenant: 'a', key: 'k' }, 'key'],
      [{ cache, tenant: 'a', replayDelayMs: -1 }, 'replayDelayMs'],
    ];
    for (const [options, argument] of cases) {
      expect(() => responseCacheMiddleware(options as ResponseCacheMiddlewareOptions)).toThrow(
        expect.objectContaining({ name: 'RedisCacheInputError', argument }) as Error,
      );
    }
  });
});
