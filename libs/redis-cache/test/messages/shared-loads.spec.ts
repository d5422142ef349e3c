import type { Redis } from 'ioredis';
import { MessageCacheClient, type CachedMessage, type MessageCacheOptions } from '@wbot/redis-cache';
import { collectedAfter } from '../../../../test/support/garbage';
import { connectedCacheRedis } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { gate } from '../support/gate';

/**
 * The loads that concurrent `getOrLoadMessages` calls in one process share: each
 * caller gets its own messages, and a load that never settles is forgotten.
 */

let server: RedisServer;
let connection: Redis;

function client(options: MessageCacheOptions = {}): MessageCacheClient {
  return new MessageCacheClient(connection, options, { deadlineMs: 5000, logger: { warn: () => {} } });
}

function messages(count: number): CachedMessage[] {
  return Array.from({ length: count }, (_, i) => ({ id: `m${i}`, role: 'user', content: { text: `text ${i}` } }));
}

beforeAll(async () => {
  server = await RedisServer.start();
  connection = await connectedCacheRedis(server.url);
});

afterAll(async () => {
  connection.disconnect();
  await server.stop();
});

beforeEach(async () => {
  await connection.flushall();
});

describe('concurrent getOrLoadMessages callers sharing one load', () => {
  it('each get their own array and messages: what one changes, even before the others have theirs, no other sees', async () => {
    const cache = client();
    const release = gate();
    const started = gate();
    const loader = jest.fn(async () => {
      started.open();
      await release.opened;
      return messages(2);
    });
    // the first caller changes its result the moment it has it, before the others' turn
    const first = cache.getOrLoadMessages('c1', loader).then((result) => {
      result.push({ id: 'local', role: 'assistant' });
      (result[0].content as { text: string }).text = 'changed';
      return result;
    });
    const others = Array.from({ length: 3 }, () => cache.getOrLoadMessages('c1', loader));
    await started.opened;
    release.open();
    const [mine, ...theirs] = await Promise.all([first, ...others]);

    expect(loader).toHaveBeenCalledTimes(1);
    expect(mine).toEqual([
      { ...messages(2)[0], content: { text: 'changed' } },
      messages(2)[1],
      { id: 'local', role: 'assistant' },
    ]);
    expect(theirs).toEqual([messages(2), messages(2), messages(2)]);
    theirs[0].push({ id: 'another' });
    theirs[0][1].role = 'changed';
    expect(theirs.slice(1)).toEqual([messages(2), messages(2)]);
    expect(new Set([mine, ...theirs]).size).toBe(4);
    expect(new Set([mine[1], ...theirs.map((result) => result[1])]).size).toBe(4);
    // and the cache holds what was loaded
    expect(await cache.getCachedMessages('c1')).toEqual(messages(2));
  });
});

describe('a load that never settles', () => {
  it('is forgotten loadTimeoutMs after it began: nothing of the client keeps its caller any more', async () => {
    const cache = client({ loadTimeoutMs: 50 });
    // not a jest.fn, which would keep what it returned, and through it the caller
    let calls = 0;
    const hung = () => (calls++, new Promise<CachedMessage[]>(() => {}));
    expect(await collectedAfter(() => cache.getOrLoadMessages('c1', hung), 100)).toBe(true);
    expect(calls).toBe(1);
    // and the next call loads for itself
    expect(await cache.getOrLoadMessages('c1', async () => messages(1))).toEqual(messages(1));
  });
});
