import {
  EMBEDDING_DEFAULTS,
  FAIL_FAST_CLUSTER_OPTIONS,
  FAIL_FAST_REDIS_OPTIONS,
  FAIL_FAST_SENTINEL_OPTIONS,
  MESSAGE_DEFAULTS,
  RESPONSE_DEFAULTS,
  reconnectDelay,
} from './defaults';

describe('reconnectDelay', () => {
  it('grows exponentially from 50 ms, is capped at 200 ms, and never gives up', () => {
    expect([0, 1, 2, 3, 10, 1000].map((attempt) => reconnectDelay(attempt, () => 1))).toEqual([
      50, 100, 200, 200, 200, 200,
    ]);
  });

  it('is jittered over the whole range, with a 50 ms floor', () => {
    expect(reconnectDelay(5, () => 0)).toBe(50);
    expect(reconnectDelay(5, () => 0.5)).toBe(100);
  });
});

describe('FAIL_FAST_REDIS_OPTIONS', () => {
  it('turns off queueing and resending, and bounds every wait', () => {
    const { retryStrategy, ...options } = FAIL_FAST_REDIS_OPTIONS;
    expect(options).toEqual({
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: 1000,
      connectTimeout: 1000,
      socketTimeout: 2000,
      disconnectTimeout: 200,
    });
    expect(typeof retryStrategy).toBe('function');
  });
});

describe('the defaults apps can import', () => {
  it('are frozen, nested options included: a consumer cannot change them for every client', () => {
    const exported = {
      EMBEDDING_DEFAULTS,
      MESSAGE_DEFAULTS,
      RESPONSE_DEFAULTS,
      FAIL_FAST_REDIS_OPTIONS,
      FAIL_FAST_SENTINEL_OPTIONS,
    };
    const frozen = Object.entries({
      ...exported,
      FAIL_FAST_CLUSTER_OPTIONS,
      'FAIL_FAST_CLUSTER_OPTIONS.redisOptions': FAIL_FAST_CLUSTER_OPTIONS.redisOptions,
    }).filter(([, value]) => Object.isFrozen(value));
    expect(frozen.map(([name]) => name)).toEqual([
      'EMBEDDING_DEFAULTS',
      'MESSAGE_DEFAULTS',
      'RESPONSE_DEFAULTS',
      'FAIL_FAST_REDIS_OPTIONS',
      'FAIL_FAST_SENTINEL_OPTIONS',
      'FAIL_FAST_CLUSTER_OPTIONS',
      'FAIL_FAST_CLUSTER_OPTIONS.redisOptions',
    ]);
    expect(() => {
      (FAIL_FAST_REDIS_OPTIONS as { commandTimeout?: number }).commandTimeout = 5;
    }).toThrow(TypeError);
    expect(FAIL_FAST_REDIS_OPTIONS.commandTimeout).toBe(1000);
  });
});
