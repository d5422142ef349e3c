import type { Redis } from 'ioredis';
import {
  AIMessage,
  BaseMessage,
  HumanMessage,
  SystemMessage,
  ToolMessage,
  mapChatMessagesToStoredMessages,
  mapStoredMessagesToChatMessages,
  type StoredMessage,
} from '@langchain/core/messages';
import { RunnableWithMessageHistory } from '@langchain/core/runnables';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import {
  MessageCacheClient,
  MessageCacheService,
  createCacheRedis,
  type CachedMessage,
  type MessageCacheOptions,
} from '@wbot/redis-cache';
import { RedisCacheChatMessageHistory } from '@wbot/redis-cache/langchain';
import { inspector, waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { messageStats } from '../../../../test/support/cache-stats';
import { expectInputError } from '../support/input-error';

/** A generous deadline: these tests prove behaviour, and a slow CI machine must not turn a call into a fallback. */
const RUNTIME_DEADLINE_MS = 5000;

/**
 * The app's database: each conversation's messages as StoredMessage JSON rows, as an app would
 * keep them. It records every call, in order, in `events`, with what the cache held when
 * `persist` ran.
 */
class Database {
  readonly rows = new Map<string, string[]>();
  readonly events: string[] = [];
  loads = 0;
  failNextPersist?: Error;
  /** Runs inside `persist`, before the rows are written. */
  duringPersist?: () => Promise<void>;

  readonly load = async (conversationId: string): Promise<BaseMessage[]> => {
    this.loads++;
    this.events.push(`load ${conversationId}`);
    const rows = this.rows.get(conversationId) ?? [];
    return mapStoredMessagesToChatMessages(rows.map((row) => JSON.parse(row) as StoredMessage));
  };

  readonly persist = async (messages: BaseMessage[], conversationId: string): Promise<void> => {
    this.events.push(`persist ${conversationId} ${messages.length}`);
    await this.duringPersist?.();
    const failure = this.failNextPersist;
    this.failNextPersist = undefined;
    if (failure) throw failure;
    const rows = this.rows.get(conversationId) ?? [];
    rows.push(...mapChatMessagesToStoredMessages(messages).map((stored) => JSON.stringify(stored)));
    this.rows.set(conversationId, rows);
  };

  seed(conversationId: string, messages: BaseMessage[]): void {
    this.rows.set(
      conversationId,
      mapChatMessagesToStoredMessages(messages).map((stored) => JSON.stringify(stored)),
    );
  }
}

/** A human turn with text and an image, the model's tool call, the tool's answer and the final answer. */
function turn(prefix = 'm'): BaseMessage[] {
  return [
    new HumanMessage({
      id: `${prefix}1`,
      content: [
        { type: 'text', text: 'What is in this picture?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } },
      ],
    }),
    new AIMessage({
      id: `${prefix}2`,
      content: '',
      tool_calls: [
        { id: 'call_1', name: 'describe_image', args: { detail: 'high', regions: [1, 2] }, type: 'tool_call' },
      ],
      usage_metadata: { input_tokens: 12, output_tokens: 7, total_tokens: 19 },
      response_metadata: { model_name: 'fake-model', finish_reason: 'tool_calls' },
    }),
    new ToolMessage({ id: `${prefix}3`, content: 'a cat on a mat', tool_call_id: 'call_1', name: 'describe_image' }),
    new AIMessage({ id: `${prefix}4`, content: 'A cat sits on a mat. 🐈' }),
  ];
}

/**
 * Messages read back are the messages that went in: the same classes, and the same StoredMessage
 * (content blocks, tool calls, tool call ids, usage and metadata), and the same fields LangChain reads.
 */
function expectSameMessages(actual: BaseMessage[], expected: BaseMessage[]): void {
  expect(actual.map((message) => message.constructor)).toEqual(expected.map((message) => message.constructor));
  expect(mapChatMessagesToStoredMessages(actual)).toEqual(mapChatMessagesToStoredMessages(expected));
  const fields = (message: BaseMessage) => ({
    id: message.id,
    content: message.content,
    name: message.name,
    tool_calls: (message as AIMessage).tool_calls,
    usage_metadata: (message as AIMessage).usage_metadata,
    tool_call_id: (message as ToolMessage).tool_call_id,
  });
  expect(actual.map(fields)).toEqual(expected.map(fields));
}

function connect(url: string): Redis {
  // ioredis's disconnect() on a socket the server already closed leaves a 2 s
  // disconnectTimeout timer behind, which would keep Jest from exiting
  return createCacheRedis(url, { commandTimeout: RUNTIME_DEADLINE_MS, disconnectTimeout: 50 });
}

function messageCache(redis: Redis, options: MessageCacheOptions = {}): MessageCacheClient {
  return new MessageCacheClient(redis, options, { deadlineMs: RUNTIME_DEADLINE_MS, logger: { warn: () => {} } });
}

/** A promise that settles only when the test says so, to force an interleaving. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('RedisCacheChatMessageHistory on a real Redis', () => {
  let server: RedisServer;
  let redis: Redis;
  let inspect: Redis;
  let db: Database;
  let cache: MessageCacheClient;

  function history(conversationId = 'c1', on: MessageCacheClient = cache): RedisCacheChatMessageHistory {
    return new RedisCacheChatMessageHistory({ cache: on, conversationId, load: db.load, persist: db.persist });
  }

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = connect(server.url);
    await waitUntilReady(redis);
    inspect = await inspector(server.url);
  });

  afterAll(async () => {
    redis.disconnect();
    inspect.disconnect();
    await server.stop();
  });

  beforeEach(async () => {
    await inspect.flushall();
    db = new Database();
    cache = messageCache(redis);
  });

  describe('round trips', () => {
    it('reads back human, tool-calling AI, tool and multi-part messages equal to what went in, from a load and then a hit', async () => {
      db.seed('c1', turn());
      const fromLoad = await history().getMessages();
      const fromHit = await history().getMessages();
      expectSameMessages(fromLoad, turn());
      expectSameMessages(fromHit, turn());
      expect(db.loads).toBe(1);
      expect(cache.stats()).toEqual(messageStats({ hits: 1, misses: 1, fills: 1 }));
    });

    it('serves messages added through the history from the cache, equal to what went in, and a reload equal too', async () => {
      const chat = history();
      expect(await chat.getMessages()).toEqual([]);
      await chat.addMessages(turn());
      expectSameMessages(await chat.getMessages(), turn());
      expect(db.loads).toBe(1);
      // the cache lost, the database answers the same
      await inspect.flushall();
      expectSameMessages(await chat.getMessages(), turn());
      expect(db.loads).toBe(2);
    });

    it('caches LangChain StoredMessage JSON, with the message id on top for the idempotent append', async () => {
      const chat = history();
      await chat.getMessages();
      const [human] = turn();
      const plain = new SystemMessage('Be brief.');
      await chat.addMessages([human, plain]);
      expect(await cache.getCachedMessages('c1')).toEqual([
        { id: 'm1', ...(JSON.parse(JSON.stringify(human.toDict())) as CachedMessage) },
        JSON.parse(JSON.stringify(plain.toDict())) as CachedMessage,
      ]);
    });

    it('keeps an id set after the message was constructed, which toDict() leaves out', async () => {
      const chat = history();
      await chat.getMessages();
      const late = new HumanMessage('hello');
      late.id = 'late-id';
      await chat.addMessage(late);
      await chat.addMessage(late);
      const [read] = await chat.getMessages();
      expect(read.id).toBe('late-id');
      expect(await chat.getMessages()).toHaveLength(1);
    });

    it('works as the history of RunnableWithMessageHistory', async () => {
      const runnable = new RunnableWithMessageHistory({
        runnable: new FakeListChatModel({ responses: ['Hi Ada.', 'Your name is Ada.'] }),
        getMessageHistory: (sessionId: string) => history(sessionId),
      });
      const config = { configurable: { sessionId: 'c1' } };
      await runnable.invoke([new HumanMessage('I am Ada.')], config);
      const answer = await runnable.invoke([new HumanMessage('What is my name?')], config);
      expect(answer.content).toBe('Your name is Ada.');
      const messages = await history().getMessages();
      expect(messages.map((message) => [message.getType(), message.content])).toEqual([
        ['human', 'I am Ada.'],
        ['ai', 'Hi Ada.'],
        ['human', 'What is my name?'],
        ['ai', 'Your name is Ada.'],
      ]);
      expect(db.rows.get('c1')).toHaveLength(4);
      expect(db.loads).toBe(1);
    });
  });

  describe('write-through', () => {
    it('persists to the database before it appends to the cache', async () => {
      const chat = history();
      await chat.getMessages();
      const [human, ai] = turn();
      db.duringPersist = async () => {
        db.events.push(`cached during persist: ${(await cache.getCachedMessages('c1'))?.length}`);
      };
      await chat.addMessages([human, ai]);
      db.events.push(`cached after: ${(await cache.getCachedMessages('c1'))?.length}`);
      expect(db.events).toEqual(['load c1', 'persist c1 2', 'cached during persist: 0', 'cached after: 2']);
    });

    it('appends nothing when persist rejects, drops the cached copy and rejects with the same error', async () => {
      const [human, ai, tool] = turn();
      db.seed('c1', [human]);
      const chat = history();
      await chat.getMessages();
      const failure = new Error('database unavailable');
      db.failNextPersist = failure;
      await expect(chat.addMessages([ai, tool])).rejects.toBe(failure);
      expect(cache.stats()).toEqual(messageStats({ misses: 1, fills: 1, clears: 1 }));
      expect(await cache.getCachedMessages('c1')).toBeNull();
      expectSameMessages(await chat.getMessages(), [human]);
      expect(db.loads).toBe(2);
    });

    it('leaves a conversation that is not cached uncached, for the next read to load with the new messages', async () => {
      db.seed('c1', turn().slice(0, 2));
      const chat = history();
      await chat.addMessages(turn().slice(2));
      expect(await cache.getCachedMessages('c1')).toBeNull();
      expectSameMessages(await chat.getMessages(), turn());
      expect(db.loads).toBe(1);
    });

    it('never fills the cache from a load that a write overtook', async () => {
      const [human, ai] = turn();
      db.seed('c1', [human]);
      const release = gate();
      const started = gate();
      const load = db.load;
      const slowLoad = async (conversationId: string) => {
        const loaded = await load(conversationId);
        started.open();
        await release.opened;
        return loaded;
      };
      const reader = new RedisCacheChatMessageHistory({
        cache,
        conversationId: 'c1',
        load: slowLoad,
        persist: db.persist,
      });
      const read = reader.getMessages();
      await started.opened;
      await history().addMessages([ai]);
      release.open();
      expectSameMessages(await read, [human]);
      expect(await cache.getCachedMessages('c1')).toBeNull();
      expectSameMessages(await history().getMessages(), [human, ai]);
      expect(cache.stats().fillsRefused).toBe(1);
    });

    it('persists nothing for no messages', async () => {
      await history().addMessages([]);
      expect(db.events).toEqual([]);
    });

    it('adds user and AI strings through persist, then the cache', async () => {
      const chat = history();
      await chat.getMessages();
      await chat.addUserMessage('Hello');
      await chat.addAIMessage('Hi there');
      const cached = await chat.getMessages();
      expect(cached.map((message) => [message.constructor, message.content])).toEqual([
        [HumanMessage, 'Hello'],
        [AIMessage, 'Hi there'],
      ]);
      expect(db.rows.get('c1')).toHaveLength(2);
      expect(db.loads).toBe(1);
    });
  });

  describe('idempotency', () => {
    it('appends a message with an id once, however often the add is retried', async () => {
      const chat = history();
      await chat.getMessages();
      const [human, ai] = turn();
      await chat.addMessages([human, ai]);
      await chat.addMessages([human, ai]);
      await chat.addMessage(ai);
      expectSameMessages(await chat.getMessages(), [human, ai]);
    });

    it('never takes two messages without ids for one another, even with the same content', async () => {
      const chat = history();
      await chat.getMessages();
      await chat.addMessages([new HumanMessage('ok'), new HumanMessage('ok')]);
      await chat.addMessage(new HumanMessage('ok'));
      const read = await chat.getMessages();
      expect(read.map((message) => message.content)).toEqual(['ok', 'ok', 'ok']);
      expect(read.map((message) => message.id)).toEqual([undefined, undefined, undefined]);
    });
  });

  describe('messages the cache refuses', () => {
    it('keeps a message past maxMessageBytes out of the cache: persisted, the cached copy dropped, served from load', async () => {
      const small = messageCache(redis, { maxMessageBytes: 1024 });
      const chat = history('c1', small);
      await chat.getMessages();
      const [human] = turn();
      const large = new AIMessage({ id: 'large', content: 'x'.repeat(2000) });
      await chat.addMessages([human, large]);
      expect(db.rows.get('c1')).toHaveLength(2);
      expect(await small.getCachedMessages('c1')).toBeNull();
      expectSameMessages(await chat.getMessages(), [human, large]);
      expectSameMessages(await chat.getMessages(), [human, large]);
      // loaded each time: the conversation, too large for the cache, is not cached
      expect(db.loads).toBe(3);
      expect(await small.getCachedMessages('c1')).toBeNull();
    });

    it('drops a conversation grown past the whole budget (maxCachedMessages), and serves it from load', async () => {
      const tight = messageCache(redis, { maxCachedMessages: 3 });
      const [human, ai, tool, answer] = turn();
      db.seed('c1', [human, ai]);
      const chat = history('c1', tight);
      await chat.getMessages();
      await chat.addMessages([tool, answer]);
      expect(await tight.getCachedMessages('c1')).toBeNull();
      expectSameMessages(await chat.getMessages(), turn());
      expect(db.loads).toBe(2);
      expect(tight.stats().dropped).toBe(1);
    });

    it('serves a conversation with JSON the cache refuses (nested too deep) from load, uncached', async () => {
      let args: Record<string, unknown> = { leaf: true };
      for (let depth = 0; depth < 70; depth++) args = { nested: args };
      const deep = new AIMessage({ id: 'deep', content: '', tool_calls: [{ id: 'call_9', name: 'walk', args }] });
      const chat = history();
      await chat.getMessages();
      await chat.addMessage(deep);
      expect(db.rows.get('c1')).toHaveLength(1);
      expect(await cache.getCachedMessages('c1')).toBeNull();
      expectSameMessages(await chat.getMessages(), [deep]);
      expectSameMessages(await chat.getMessages(), [deep]);
      expect(db.loads).toBe(3);
    });
  });

  describe('reads', () => {
    it('shares one load among concurrent misses, and gives each call messages of its own', async () => {
      db.seed('c1', turn());
      const [first, second] = await Promise.all([history().getMessages(), history().getMessages()]);
      expect(db.loads).toBe(1);
      (first[0].content as { text?: string }[])[0].text = 'changed by the first caller';
      expectSameMessages(second, turn());
    });

    it('clear() empties the cache only: the next read loads the database', async () => {
      db.seed('c1', turn());
      const chat = history();
      await chat.getMessages();
      await chat.clear();
      expect(await cache.getCachedMessages('c1')).toBeNull();
      expectSameMessages(await chat.getMessages(), turn());
      expect(db.loads).toBe(2);
    });

    it('rejects with the failure of load', async () => {
      const failure = new Error('database unavailable');
      const chat = new RedisCacheChatMessageHistory({
        cache,
        conversationId: 'c1',
        load: () => Promise.reject(failure),
        persist: db.persist,
      });
      await expect(chat.getMessages()).rejects.toBe(failure);
    });

    it('takes a MessageCacheService as well', async () => {
      const service = new MessageCacheService(redis, {}, { deadlineMs: RUNTIME_DEADLINE_MS });
      db.seed('c1', turn());
      expectSameMessages(await history('c1', service).getMessages(), turn());
      expectSameMessages(await history('c1', service).getMessages(), turn());
      expect(db.loads).toBe(1);
    });
  });

  it('throws RedisCacheInputError naming the bad argument', async () => {
    const build = (options: unknown) => () => new RedisCacheChatMessageHistory(options as never);
    const valid = { cache, conversationId: 'c1', load: db.load, persist: db.persist };
    await expectInputError(build(undefined), 'cache');
    await expectInputError(build({ ...valid, cache: redis }), 'cache');
    await expectInputError(build({ ...valid, conversationId: '' }), 'conversationId');
    await expectInputError(build({ ...valid, load: [] }), 'load');
    await expectInputError(build({ ...valid, persist: undefined }), 'persist');
    const chat = history();
    await expectInputError(() => chat.addMessages({} as never), 'messages');
    await expectInputError(() => chat.addMessages([new HumanMessage('a'), { content: 'b' } as never]), 'messages[1]');
    await expectInputError(() => chat.addMessage('hello' as never), 'message');
    await expectInputError(
      () => chat.addMessage(new AIMessage({ content: 'x', additional_kwargs: { tokens: BigInt(10) } })),
      'messages[0]',
    );
    expect(db.events).toEqual([]);
    const badLoad = new RedisCacheChatMessageHistory({
      ...valid,
      load: async () => [new HumanMessage('a'), 'b'] as never,
    });
    await expectInputError(() => badLoad.getMessages(), 'load()[1]');
  });
});

describe('RedisCacheChatMessageHistory with Redis down', () => {
  it('still serves the conversation from load, and still persists new messages, once the server was killed', async () => {
    const doomed = await RedisServer.start();
    const redis = connect(doomed.url);
    try {
      await waitUntilReady(redis);
      const db = new Database();
      const [human, ai, tool, answer] = turn();
      db.seed('c1', [human, ai]);
      const cache = messageCache(redis);
      const chat = new RedisCacheChatMessageHistory({
        cache,
        conversationId: 'c1',
        load: db.load,
        persist: db.persist,
      });
      expectSameMessages(await chat.getMessages(), [human, ai]);
      const closed = new Promise((resolve) => redis.once('close', resolve));
      await doomed.kill();
      await closed;
      await chat.addMessages([tool, answer]);
      expect(db.rows.get('c1')).toHaveLength(4);
      expectSameMessages(await chat.getMessages(), [human, ai, tool, answer]);
      expectSameMessages(await chat.getMessages(), [human, ai, tool, answer]);
      expect(db.loads).toBe(3);
    } finally {
      redis.disconnect();
      await doomed.stop();
    }
  });
});
