import { context, trace, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Redis } from 'ioredis';
import { EmbeddingCacheService, MessageCacheClient } from '@wbot/redis-cache';
import { connectedCacheRedis } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';

/**
 * With the OpenTelemetry API installed but no SDK registered, or one that
 * samples every span out, a call costs nothing: it enters no context and sets
 * no attribute, and returns what it returns untraced.
 */
class CountingContextManager extends AsyncLocalStorageContextManager {
  entered = 0;

  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    this.entered++;
    return super.with(ctx, fn, thisArg, ...args);
  }
}

let server: RedisServer;
let client: Redis;
const contextManager = new CountingContextManager();

/** Every public operation, with what each returned. */
async function everyOperation(): Promise<unknown[]> {
  const embeddings = new EmbeddingCacheService(client);
  const messages = new MessageCacheClient(client);
  const activeInCompute: unknown[] = [];
  return [
    await embeddings.cacheEmbedding('u', 'a', [1, 2]),
    await embeddings.cacheEmbeddings('u', [{ text: 'b', embedding: [3, 4] }]),
    await embeddings.getCachedEmbedding('u', 'a'),
    await embeddings.getCachedEmbeddings('u', ['a', 'x']),
    await embeddings.getOrComputeEmbeddings('u', ['b', 'c'], async (missing) => {
      activeInCompute.push(trace.getActiveSpan());
      return missing.map(() => [5, 6]);
    }),
    activeInCompute,
    await embeddings.clearUser('u'),
    await messages.getOrLoadMessages('c', async () => [{ id: 1 }]),
    await messages.appendMessages('c', [{ id: 2 }]),
    await messages.getCachedMessages('c'),
    await messages.cacheMessages('c', [{ id: 3 }]),
    await messages.clearConversation('c'),
  ];
}

const RESULTS = [
  true,
  true,
  [1, 2],
  [[1, 2], null],
  [
    [3, 4],
    [5, 6],
  ],
  [undefined],
  true,
  [{ id: 1 }],
  true,
  [{ id: 1 }, { id: 2 }],
  true,
  true,
];

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  server = await RedisServer.start();
  client = await connectedCacheRedis(server.url);
});

afterAll(async () => {
  client.disconnect();
  await server.stop();
  trace.disable();
  context.disable();
});

beforeEach(async () => {
  await client.flushall();
  contextManager.entered = 0;
});

it('with no SDK registered, returns the same results and enters no context', async () => {
  expect(await everyOperation()).toEqual(RESULTS);
  expect(contextManager.entered).toBe(0);
});

it('with an SDK that samples every span out, exports none and enters no context', async () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    sampler: new AlwaysOffSampler(),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  trace.setGlobalTracerProvider(provider);
  try {
    expect(await everyOperation()).toEqual(RESULTS);
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(contextManager.entered).toBe(0);
  } finally {
    await provider.shutdown();
    trace.disable();
  }
});
