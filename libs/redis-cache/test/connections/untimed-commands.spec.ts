import { Redis } from 'ioredis';
import { sendUntimed } from '../../src/connections/untimed-commands';
import { inspector, waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';

/** Far shorter than the wait below, so that a command ioredis times out has visibly timed out. */
const COMMAND_TIMEOUT_MS = 50;

/** How a promise stands after a wait: its value, its error's message, or still pending. */
async function standing(promise: Promise<unknown>, afterMs: number): Promise<string> {
  const settled = promise.then(
    (value) => `resolved ${JSON.stringify(value)}`,
    (error: Error) => `rejected ${error.message}`,
  );
  const pending = new Promise<string>((resolve) => setTimeout(() => resolve('pending'), afterMs));
  return Promise.race([settled, pending]);
}

describe('sendUntimed', () => {
  let server: RedisServer;
  let raw: Redis;

  beforeAll(async () => {
    server = await RedisServer.start();
    raw = await inspector(server.url);
  });

  afterAll(async () => {
    await raw.quit();
    await server.stop();
  });

  beforeEach(() => raw.flushall());

  it("sends a command as the client's own method does: its keyPrefix, strings, or Buffers for a name ending in Buffer", async () => {
    const client = new Redis(server.url, { keyPrefix: 'app:' });
    try {
      await waitUntilReady(client);
      await raw.rpush('app:list', 'a', 'b', 'c');
      await raw.hset('app:hash', 'f', 'v');
      expect(await sendUntimed(client, 'lrange', ['list', -2, -1])).toEqual(['b', 'c']);
      expect(await sendUntimed(client, 'hmgetBuffer', ['hash', 'f', 'g'])).toEqual([Buffer.from('v'), null]);
      await expect(sendUntimed(client, 'hmget', ['list', 'f'])).rejects.toThrow(/^WRONGTYPE/);
    } finally {
      client.disconnect();
    }
  });

  it("arms no commandTimeout timer: on a frozen server it waits where the client's own command times out, then gets its reply", async () => {
    const client = new Redis(server.url, { commandTimeout: COMMAND_TIMEOUT_MS });
    try {
      await waitUntilReady(client);
      await raw.set('key', 'value');
      server.freeze();
      const own = client.get('key');
      const untimed = sendUntimed(client, 'get', ['key']);
      expect(await standing(own, 6 * COMMAND_TIMEOUT_MS)).toBe('rejected Command timed out');
      expect(await standing(untimed, 0)).toBe('pending');
      server.thaw();
      expect(await untimed).toBe('value');
    } finally {
      server.thaw();
      client.disconnect();
    }
  });
});
