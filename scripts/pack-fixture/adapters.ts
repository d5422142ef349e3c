// The packed @wbot/redis-cache's adapters in a brand-new app that installed the real AI SDK, LangChain.js and
// OpenTelemetry packages with plain npm commands (scripts/verify-pack.js, the adapters corner). It runs the README's
// recipes, compiled beside it from ./snippets, against a private redis-server whose URL it gets in REDIS_URL, and
// prints one line per check; it exits non-zero at the first failure.
import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { FakeEmbeddings, FakeListChatModel } from '@langchain/core/utils/testing';
import { MockLanguageModelV3 } from 'ai/test';
import {
  EmbeddingCacheService,
  MessageCacheService,
  ResponseCacheService,
  closeCacheClient,
  createCacheRedis,
} from '@wbot/redis-cache';
import type { Redis } from 'ioredis';
import { cachedModel, embedForUser } from './snippets/ai-sdk';
import { AnswerService } from './snippets/ai-sdk-responses-nest';
import { cachedEmbeddings, historyOf, type MessageStore } from './snippets/langchain';
import { ask, llmCacheFor } from './snippets/langchain-responses';
import { runChecks } from './run-checks.js';

const RUN_TIMEOUT_MS = 30_000;
const url = process.env.REDIS_URL;
if (!url) throw new Error('REDIS_URL must be set');

function pass(check: string): void {
  console.log(`  ok ${check}`);
}

/** An AI SDK embedding model that embeds a text as [its length, its first char code], and records its calls. */
function lengthModel(calls: string[][]): Parameters<typeof cachedModel>[0] {
  return {
    specificationVersion: 'v3',
    provider: 'fixture',
    modelId: 'length',
    maxEmbeddingsPerCall: 100,
    supportsParallelCalls: true,
    doEmbed: async ({ values }) => {
      calls.push([...values]);
      return {
        embeddings: values.map((value) => [value.length, value.charCodeAt(0)]),
        usage: { tokens: values.length * 10 },
        warnings: [],
      };
    },
  };
}

async function checkAiSdk(cache: EmbeddingCacheService): Promise<void> {
  const calls: string[][] = [];
  const model = cachedModel(lengthModel(calls), cache);
  const first = await embedForUser(model, 'user-1', ['ab', 'xyz']);
  deepStrictEqual(first, {
    embeddings: [
      [2, 97],
      [3, 120],
    ],
    tokens: 20,
  });
  const second = await embedForUser(model, 'user-1', ['xyz', 'new', 'ab']);
  deepStrictEqual(second, {
    embeddings: [
      [3, 120],
      [3, 110],
      [2, 97],
    ],
    tokens: 10,
  });
  deepStrictEqual(calls, [['ab', 'xyz'], ['new']]);
  pass('ai: embedMany through embeddingCacheMiddleware sends only the misses, in input order');
}

async function checkLangChain(embeddingCache: EmbeddingCacheService, messageCache: MessageCacheService): Promise<void> {
  const fake = new FakeEmbeddings();
  let queries = 0;
  const counted = Object.assign(Object.create(fake) as FakeEmbeddings, {
    embedQuery: (text: string) => {
      queries++;
      return fake.embedQuery(text);
    },
  });
  const embeddings = cachedEmbeddings(counted, embeddingCache, 'user-1');
  const vector = await embeddings.embedQuery('what is cached?');
  deepStrictEqual(await embeddings.embedQuery('what is cached?'), vector);
  strictEqual(queries, 1);
  pass('@langchain/core: CachedEmbeddings answers a repeated embedQuery from Redis');

  const saved = new Map<string, BaseMessage[]>();
  const store: MessageStore = {
    load: async (id) => saved.get(id) ?? [],
    save: async (id, messages) => void saved.set(id, [...(saved.get(id) ?? []), ...messages]),
  };
  const question = new HumanMessage({ id: 'q1', content: 'What is cached?' });
  const answer = new AIMessage({ id: 'a1', content: 'Vectors and messages.' });
  const history = historyOf('conversation-lc', messageCache, store);
  deepStrictEqual(await history.getMessages(), []);
  await history.addMessages([question, answer]);
  const read = await historyOf('conversation-lc', messageCache, store).getMessages();
  deepStrictEqual(
    read.map((message) => [message.constructor.name, message.id, message.content]),
    [
      ['HumanMessage', 'q1', 'What is cached?'],
      ['AIMessage', 'a1', 'Vectors and messages.'],
    ],
  );
  deepStrictEqual([...saved.keys()], ['conversation-lc']);
  pass('@langchain/core: RedisCacheChatMessageHistory writes through and reads the messages back from Redis');
}

async function checkResponses(redis: Redis): Promise<void> {
  const responses = new ResponseCacheService(redis);
  try {
    let calls = 0;
    const model = new MockLanguageModelV3({
      doGenerate: async () => {
        calls++;
        const usage = {
          inputTokens: { total: 3, noCache: 3, cacheRead: 0, cacheWrite: 0 },
          outputTokens: { total: 2, text: 2, reasoning: 0 },
        };
        return {
          content: [{ type: 'text', text: 'An answer.' }],
          finishReason: { unified: 'stop', raw: 'stop' },
          usage,
          warnings: [],
        };
      },
    });
    const service = new AnswerService(responses, model);
    deepStrictEqual(await service.answer('tenant-1', 'What is cached?'), { text: 'An answer.', cached: false });
    deepStrictEqual(await service.answer('tenant-1', 'What is cached?'), { text: 'An answer.', cached: true });
    strictEqual(calls, 1);
    pass('ai: generateText through responseCacheMiddleware answers a repeated call from Redis');

    const chat = new FakeListChatModel({ responses: ['first', 'second'], cache: llmCacheFor(responses, 'tenant-1') });
    deepStrictEqual([await ask(chat, 'What is cached?'), await ask(chat, 'What is cached?')], ['first', 'first']);
    pass('@langchain/core: RedisCacheLLMCache answers a repeated chat call from Redis');
  } finally {
    await responses.close();
  }
}

async function checkTracing(cache: EmbeddingCacheService): Promise<void> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  // after the library loaded: its tracer follows the provider registered later
  trace.setGlobalTracerProvider(provider);
  try {
    await cache.getCachedEmbedding('user-2', 'never cached');
    const spans = exporter
      .getFinishedSpans()
      .map(({ name, attributes }) => [
        name,
        attributes['db.system.name'],
        attributes['wbot.cache.connection'],
        attributes['wbot.cache.result'],
      ]);
    deepStrictEqual(spans, [['wbot.cache getCachedEmbedding', 'redis', 'local', 'miss']]);
  } finally {
    await provider.shutdown();
    trace.disable();
  }
  pass("@opentelemetry/api: the app's provider gets a span per cache call from the installed package");
}

async function main(): Promise<void> {
  const redis = createCacheRedis(url as string);
  try {
    const embeddingCache = new EmbeddingCacheService(redis);
    await checkAiSdk(embeddingCache);
    await checkLangChain(embeddingCache, new MessageCacheService(redis));
    await checkResponses(redis);
    await checkTracing(embeddingCache);
  } finally {
    await closeCacheClient(redis);
  }
}

runChecks(main, RUN_TIMEOUT_MS);
