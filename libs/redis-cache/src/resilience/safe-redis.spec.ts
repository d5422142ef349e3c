import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { ConnectionBreaker } from './breaker';
import { SafeRedis } from './safe-redis';

describe('SafeRedis', () => {
  const breaker: ConnectionBreaker = {
    state: 'half-open',
    run: (call) => call(),
    stateOf: () => 'half-open',
    scopes: () => ({ '': 'half-open' }),
  };

  /** A client that has ended without ever connecting: no socket was ever opened. */
  const ended = (url = 'redis://127.0.0.1:1') => {
    const client = new Redis(url, { lazyConnect: true });
    client.disconnect();
    return client;
  };

  it('gives the fallback at once on a connection that has ended, without running the call or the breaker', async () => {
    const warnings: string[] = [];
    const fallbacks: string[] = [];
    let ran = false;
    const safe = new SafeRedis(ended(), {
      connection: 'local',
      deadlineMs: 100,
      logger: { warn: (line) => warnings.push(line) },
      breaker: {
        state: 'closed',
        run: () => Promise.reject(new Error('the breaker must not be asked')),
        stateOf: () => 'closed',
        scopes: () => ({}),
      },
      onFallback: (operation) => fallbacks.push(operation),
    });
    const result = await safe.run(
      'read',
      'fallback',
      async () => {
        ran = true;
        return 'value';
      },
      'key',
    );
    expect(result).toBe('fallback');
    expect(ran).toBe(false);
    expect(fallbacks).toEqual(['read']);
    expect(warnings).toEqual(['Redis connection "local" failed during read: connection is end']);
  });

  it('background work on a connection that is not ready rejects at once, without running, logging or counting', async () => {
    const warnings: string[] = [];
    const fallbacks: string[] = [];
    let ran = false;
    const safe = new SafeRedis(ended(), {
      connection: 'shared',
      deadlineMs: 100,
      logger: { warn: (line) => warnings.push(line) },
      breaker,
      onFallback: (operation) => fallbacks.push(operation),
    });
    const work = safe.attempt(async () => (ran = true), 'key');
    await expect(work).rejects.toThrow('connection is end');
    expect([ran, warnings, fallbacks]).toEqual([false, [], []]);
  });

  it("reports the connection's name, status and breaker state, or 'none' without a breaker", () => {
    const client = new Redis('redis://127.0.0.1:1', { lazyConnect: true });
    const logger = { warn: () => undefined };
    expect(new SafeRedis(client, { connection: 'shared', deadlineMs: 1, logger, breaker }).connectionState()).toEqual({
      connection: 'shared',
      status: 'wait',
      breaker: 'half-open',
    });
    expect(new SafeRedis(client, { connection: 'local', deadlineMs: 1, logger }).connectionState()).toEqual({
      connection: 'local',
      status: 'wait',
      breaker: 'none',
    });
  });

  it("masks the connection's password in its warnings", async () => {
    const warnings: string[] = [];
    const client = ended('redis://user:top-secret@127.0.0.1:1');
    const safe = new SafeRedis(client, {
      connection: 'top-secret',
      deadlineMs: 1,
      logger: { warn: (line) => warnings.push(line) },
    });
    await safe.run('read', null, async () => null, 'key');
    expect(warnings).toEqual(['Redis connection "***" failed during read: connection is end']);
  });

  it('gives the fallback, and warns, when the breaker throws before it returns a promise', async () => {
    const warnings: string[] = [];
    const fallbacks: string[] = [];
    // a client that says it is ready, whose socket takes the corking of the tick's writes
    const ready = Object.assign(new EventEmitter(), {
      status: 'ready',
      options: {},
      stream: { cork: () => undefined, uncork: () => undefined },
    }) as unknown as Redis;
    const safe = new SafeRedis(ready, {
      connection: 'local',
      deadlineMs: 100,
      logger: { warn: (line) => warnings.push(line) },
      breaker: {
        state: 'closed',
        run: () => {
          throw new Error('breaker broke');
        },
        stateOf: () => 'closed',
        scopes: () => ({}),
      },
      onFallback: (operation) => fallbacks.push(operation),
    });
    await expect(safe.run('read', 'fallback', () => Promise.resolve('value'), 'key')).resolves.toBe('fallback');
    expect(fallbacks).toEqual(['read']);
    expect(warnings).toEqual(['Redis connection "local" failed during read: breaker broke']);
  });
});
