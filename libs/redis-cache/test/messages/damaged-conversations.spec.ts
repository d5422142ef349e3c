import type { Redis } from 'ioredis';
import { MessageCacheClient, type CachedMessage } from '@wbot/redis-cache';
import { conversationKeys } from '../../src/keys';
import { CIRCUIT_BREAKER_DEFAULTS } from '../../src/options/defaults';
import { OpossumConnectionBreaker } from '../../src/resilience/opossum-breaker';
import { connectedCacheRedis, inspector } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { messageStats } from '../../../../test/support/cache-stats';

/**
 * A conversation written into the cache's keys by another program, in another
 * language, other than as the library writes it: its elements not JSON, or JSON
 * that is not an object. A read finds it cached and whole (header first), and
 * only the parse tells.
 */

let server: RedisServer;
let connection: Redis;
let inspect: Redis;
let breaker: OpossumConnectionBreaker;
let warnings: string[];

function client(): MessageCacheClient {
  return new MessageCacheClient(
    connection,
    {},
    { deadlineMs: 5000, logger: { warn: (line) => warnings.push(line) }, breaker },
  );
}

function messages(count: number, prefix = 'm'): CachedMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`,
    role: 'user',
    content: `${prefix} text ${i}`,
  }));
}

/** The conversation cached with `messages(2)`, then `elements` pushed onto its list as another program would. */
async function damaged(cache: MessageCacheClient, conversationId: string, elements: string[]): Promise<void> {
  expect(await cache.cacheMessages(conversationId, messages(2))).toBe(true);
  await inspect.rpush(conversationKeys(conversationId, 0).messages, ...elements);
}

const DAMAGE: [string, string[]][] = [
  ['an element that is not JSON', ['{not json']],
  ['an element that is a JSON number', ['42']],
  ['an element that is a JSON string', ['"text"']],
  ['an element that is a JSON array', ['[{"id":"x"}]']],
  ['an element that is JSON null', ['null']],
  ['two elements that join into one object', ['{"a":"', '"}']],
];

beforeAll(async () => {
  server = await RedisServer.start();
  connection = await connectedCacheRedis(server.url);
  inspect = await inspector(server.url);
});

afterAll(async () => {
  connection.disconnect();
  inspect.disconnect();
  await server.stop();
});

beforeEach(async () => {
  await inspect.flushall();
  warnings = [];
  breaker = new OpossumConnectionBreaker('damage', { ...CIRCUIT_BREAKER_DEFAULTS });
});

afterEach(() => {
  breaker.shutdown();
});

describe('a damaged cached conversation', () => {
  it.each(DAMAGE)('with %s is a miss: dropped, counted, and no Redis failure', async (_damage, elements) => {
    const cache = client();
    await damaged(cache, 'c1', elements);
    expect(await cache.getCachedMessages('c1')).toBeNull();
    expect(await inspect.exists(conversationKeys('c1', 0).messages)).toBe(0);
    expect(cache.stats()).toEqual(messageStats({ fills: 1, misses: 1, dropped: 1 }));
    expect(breaker.state).toBe('closed');
    expect(warnings).toEqual([]);
  });

  it('never opens the breaker: after five damaged conversations, a healthy one still hits', async () => {
    const cache = client();
    for (let i = 0; i < 5; i++) await damaged(cache, `damaged-${i}`, ['{not json']);
    expect(await cache.cacheMessages('healthy', messages(3, 'h'))).toBe(true);
    for (let i = 0; i < 5; i++) expect(await cache.getCachedMessages(`damaged-${i}`)).toBeNull();
    expect(breaker.state).toBe('closed');
    expect(await cache.getCachedMessages('healthy')).toEqual(messages(3, 'h'));
    expect(cache.stats()).toEqual(messageStats({ fills: 6, misses: 5, dropped: 5, hits: 1 }));
  });

  it('is loaded afresh by getOrLoadMessages, and filled by the next load', async () => {
    const cache = client();
    await damaged(cache, 'c1', ['42']);
    const loader = jest.fn(async () => messages(4, 'db'));
    expect(await cache.getOrLoadMessages('c1', loader)).toEqual(messages(4, 'db'));
    expect(await cache.getOrLoadMessages('c1', loader)).toEqual(messages(4, 'db'));
    expect(await cache.getCachedMessages('c1')).toEqual(messages(4, 'db'));
    expect(loader).toHaveBeenCalledTimes(2);
    expect(cache.stats()).toEqual(messageStats({ fills: 2, misses: 2, hits: 1, dropped: 1 }));
    expect(breaker.state).toBe('closed');
  });

  it('goes out as stored from getCachedMessagesJson, which does not parse, and is not dropped by it', async () => {
    const cache = client();
    await damaged(cache, 'c1', ['{not json']);
    const stored = messages(2).map((message) => JSON.stringify(message));
    expect(await cache.getCachedMessagesJson('c1')).toBe(`[${[...stored, '{not json'].join(',')}]`);
    expect(cache.stats()).toEqual(messageStats({ fills: 1, hits: 1 }));
    // the next parsing read drops it
    expect(await cache.getCachedMessages('c1')).toBeNull();
    expect(cache.stats().dropped).toBe(1);
  });
});
