import type { Redis } from 'ioredis';
import { AIMessage, HumanMessage } from '@langchain/core/messages';
import { FakeChatModel, FakeListChatModel, FakeLLM } from '@langchain/core/utils/testing';
import { ResponseCacheService, createCacheRedis, type ResponseCacheOptions } from '@wbot/redis-cache';
import { RedisCacheLLMCache } from '@wbot/redis-cache/langchain';
import { responseKeys } from '../../src/keys';
import { inspector, waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer, freePort } from '../../../../test/support/redis-server';
import { expectInputError } from '../support/input-error';

/** A generous deadline: these tests prove behaviour, and a slow CI machine must not turn a call into a fallback. */
const DEADLINE_MS = 5000;

/**
 * A FakeListChatModel answers its responses in turn, one per call that reaches it, so what a call returns says
 * whether it reached the model: a second identical call answered `first` again came from the cache.
 */
function chatModel(cache: RedisCacheLLMCache, responses = ['first', 'second', 'third']): FakeListChatModel {
  return new FakeListChatModel({ responses, cache });
}

/** A user message with a text part and an image (a data URL of `bytes`). */
function withImage(bytes: string): HumanMessage {
  const url = `data:image/png;base64,${Buffer.from(bytes).toString('base64')}`;
  return new HumanMessage({
    content: [
      { type: 'text', text: 'What is in this image?' },
      { type: 'image_url', image_url: { url } },
    ],
  });
}

describe('RedisCacheLLMCache with the real @langchain/core models', () => {
  let server: RedisServer;
  let redis: Redis;
  let inspect: Redis;

  function responseCache(options: ResponseCacheOptions = {}, client: Redis = redis): ResponseCacheService {
    return new ResponseCacheService(client, options, { deadlineMs: DEADLINE_MS, logger: { warn: () => undefined } });
  }

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = createCacheRedis(server.url, { commandTimeout: DEADLINE_MS, disconnectTimeout: 50 });
    await waitUntilReady(redis);
    inspect = await inspector(server.url);
  });

  afterAll(async () => {
    redis.disconnect();
    inspect.disconnect();
    await server.stop();
  });

  beforeEach(() => inspect.flushall());

  it('answers a second identical chat call from Redis, without the model, with the same AIMessage content', async () => {
    const cache = responseCache();
    const model = chatModel(new RedisCacheLLMCache({ cache, tenant: 'alice' }));
    const first = await model.invoke('What is a cache?');
    const again = await model.invoke('What is a cache?');
    const other = await model.invoke('What is Redis?');

    expect([first.content, again.content, other.content]).toEqual(['first', 'first', 'second']);
    expect(again).toBeInstanceOf(AIMessage);
    expect(again.usage_metadata).toEqual({ input_tokens: 0, output_tokens: 0, total_tokens: 0 });
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, writes: 2 });
  });

  it('misses when the call options differ, and when the model differs', async () => {
    const cache = responseCache();
    const model = chatModel(new RedisCacheLLMCache({ cache, tenant: 'alice' }));
    await model.invoke('Count to three');
    // the fake model answers a call with stop words with the first of them: it was called
    expect((await model.invoke('Count to three', { stop: ['two'] })).content).toBe('two');
    // another type of model: FakeChatModel echoes the prompt
    const otherModel = new FakeChatModel({ cache: new RedisCacheLLMCache({ cache, tenant: 'alice' }) });
    expect((await otherModel.invoke('Count to three')).content).toBe('Count to three');
    expect(cache.stats().hits).toBe(0);
  });

  it('caches an LLM (text completion) the same way', async () => {
    const cache = new RedisCacheLLMCache({ cache: responseCache(), tenant: 'alice' });
    let calls = 0;
    const llm = new FakeLLM({ cache });
    const call = llm._call.bind(llm);
    llm._call = async (...args) => {
      calls++;
      return call(...args);
    };
    expect(await llm.invoke('echo me')).toBe('echo me');
    expect(await llm.invoke('echo me')).toBe('echo me');
    expect(calls).toBe(1);
  });

  it("keeps tenants apart: one tenant's answer never answers another's call", async () => {
    const cache = responseCache();
    const alice = chatModel(new RedisCacheLLMCache({ cache, tenant: 'alice' }), ['for alice']);
    const bob = chatModel(new RedisCacheLLMCache({ cache, tenant: 'bob' }), ['for bob']);
    await alice.invoke('Same question');
    expect((await bob.invoke('Same question')).content).toBe('for bob');
  });

  it('never answers a prompt with an image from another: each reaches the model, as a counted bypass, and nothing is stored', async () => {
    const cache = responseCache();
    const model = chatModel(new RedisCacheLLMCache({ cache, tenant: 'alice' }), ['a cat', 'a dog']);
    expect((await model.invoke([withImage('cat pixels')])).content).toBe('a cat');
    expect((await model.invoke([withImage('dog pixels')])).content).toBe('a dog');
    expect(cache.stats()).toMatchObject({ bypasses: 2, hits: 0, writes: 0 });
    expect(await inspect.exists(responseKeys('alice').entries)).toBe(0);
  });

  it("stores the generations for the cache's TTL, or its own ttlSeconds", async () => {
    const cache = responseCache({ ttlSeconds: 600 });
    await chatModel(new RedisCacheLLMCache({ cache, tenant: 'alice', ttlSeconds: 30 })).invoke('Hi');
    const ttl = await inspect.pttl(responseKeys('alice').entries);
    expect(ttl).toBeGreaterThan(28_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it('lets every call reach the model with Redis down, without an error', async () => {
    const down = createCacheRedis(`redis://127.0.0.1:${await freePort()}`);
    try {
      const model = chatModel(new RedisCacheLLMCache({ cache: responseCache({}, down), tenant: 'alice' }));
      expect((await model.invoke('Hi')).content).toBe('first');
      expect((await model.invoke('Hi')).content).toBe('second');
    } finally {
      down.disconnect();
    }
  });

  it('rejects a cache that is not a ResponseCacheService, an invalid tenant or TTL, naming them', async () => {
    const cache = responseCache();
    await expectInputError(() => new RedisCacheLLMCache({ cache: {} as ResponseCacheService, tenant: 'a' }), 'cache');
    await expectInputError(() => new RedisCacheLLMCache({ cache, tenant: '' }), 'tenant');
    await expectInputError(() => new RedisCacheLLMCache({ cache, tenant: 'a', ttlSeconds: 0 }), 'options.ttlSeconds');
  });
});
