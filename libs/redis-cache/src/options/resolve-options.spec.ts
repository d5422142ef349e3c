import { RedisCacheConfigError } from '../errors';
import { MAX_TTL_SECONDS } from './defaults';
import {
  resolveCircuitBreaker,
  resolveEmbeddingOptions,
  resolveMessageOptions,
  resolveResponseOptions,
} from './resolve-options';

describe('ttlSeconds', () => {
  it('is at most 100 years, which keeps every deadline an integer Redis takes', () => {
    expect(MAX_TTL_SECONDS).toBe(3_153_600_000);
    expect(resolveEmbeddingOptions({ ttlSeconds: MAX_TTL_SECONDS }).ttlSeconds).toBe(MAX_TTL_SECONDS);
    expect(resolveMessageOptions({ ttlSeconds: MAX_TTL_SECONDS }).ttlSeconds).toBe(MAX_TTL_SECONDS);
    expect(resolveResponseOptions({ ttlSeconds: MAX_TTL_SECONDS }).ttlSeconds).toBe(MAX_TTL_SECONDS);
  });

  it.each([
    ['embeddings', () => resolveEmbeddingOptions({ ttlSeconds: MAX_TTL_SECONDS + 1 })],
    ['messages', () => resolveMessageOptions({ ttlSeconds: MAX_TTL_SECONDS + 1 })],
    ['responses', () => resolveResponseOptions({ ttlSeconds: MAX_TTL_SECONDS + 1 })],
  ])('refuses a longer %s.ttlSeconds, with which every write would fail', (section, resolve) => {
    expect(resolve).toThrow(RedisCacheConfigError);
    expect(resolve).toThrow(
      expect.objectContaining({
        option: `${section}.ttlSeconds`,
        message: expect.stringContaining(
          `must be an integer from 1 to ${MAX_TTL_SECONDS} (got ${MAX_TTL_SECONDS + 1})`,
        ),
      }),
    );
  });
});

describe('resolveCircuitBreaker', () => {
  it('fills in the defaults', () => {
    expect(resolveCircuitBreaker(undefined)).toEqual({
      consecutiveFailures: 3,
      errorThresholdPercentage: 50,
      volumeThreshold: 5,
      windowMs: 1000,
      resetTimeoutMs: 250,
    });
  });

  it('keeps valid overrides', () => {
    expect(
      resolveCircuitBreaker({ consecutiveFailures: 10, errorThresholdPercentage: 100, resetTimeoutMs: 1 }),
    ).toEqual({
      consecutiveFailures: 10,
      errorThresholdPercentage: 100,
      volumeThreshold: 5,
      windowMs: 1000,
      resetTimeoutMs: 1,
    });
  });

  it.each([
    [{ consecutiveFailures: 0 }, 'circuitBreaker.consecutiveFailures'],
    [{ errorThresholdPercentage: 101 }, 'circuitBreaker.errorThresholdPercentage'],
    [{ volumeThreshold: 1.5 }, 'circuitBreaker.volumeThreshold'],
    [{ windowMs: 9 }, 'circuitBreaker.windowMs'],
    [{ resetTimeoutMs: '500' }, 'circuitBreaker.resetTimeoutMs'],
    ['fast', 'circuitBreaker'],
  ])('refuses %j', (invalid, option) => {
    expect(() => resolveCircuitBreaker(invalid as never)).toThrow(RedisCacheConfigError);
    expect(() => resolveCircuitBreaker(invalid as never)).toThrow(expect.objectContaining({ option }));
  });
});

describe('resolveResponseOptions', () => {
  it('fills in the defaults: the local connection, 10,000 responses per tenant for an hour, 1 MiB each', () => {
    expect(resolveResponseOptions(undefined)).toEqual({
      connection: 'local',
      maxEntriesPerTenant: 10_000,
      ttlSeconds: 3600,
      maxEntryBytes: 1024 * 1024,
      hashSecret: undefined,
      leaseTtlMs: 10_000,
      coalesceTimeoutMs: 60_000,
    });
  });

  it.each([
    [{ connection: 'remote' }, 'responses.connection'],
    [{ maxEntriesPerTenant: 0 }, 'responses.maxEntriesPerTenant'],
    [{ maxEntryBytes: 1.5 }, 'responses.maxEntryBytes'],
    [{ hashSecret: '' }, 'responses.hashSecret'],
    [{ leaseTtlMs: 29 }, 'responses.leaseTtlMs'],
    [{ coalesceTimeoutMs: '60s' }, 'responses.coalesceTimeoutMs'],
    ['all', 'responses'],
  ])('refuses %j', (invalid, option) => {
    expect(() => resolveResponseOptions(invalid as never)).toThrow(RedisCacheConfigError);
    expect(() => resolveResponseOptions(invalid as never)).toThrow(expect.objectContaining({ option }));
  });
});
