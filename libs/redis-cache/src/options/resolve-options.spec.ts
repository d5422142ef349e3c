import { RedisCacheConfigError } from '../errors';
import { resolveCircuitBreaker } from './resolve-options';

describe('resolveCircuitBreaker', () => {
  it('fills in the defaults', () => {
    expect(resolveCircuitBreaker(undefined)).toEqual({
      consecutiveFailures: 3,
      errorThresholdPercentage: 50,
      volumeThreshold: 5,
      windowMs: 1000,
      resetTimeoutMs: 500,
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
