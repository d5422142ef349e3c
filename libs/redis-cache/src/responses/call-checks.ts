import { RedisCacheInputError } from '../errors';
import { assertOptions, writeTtlMs } from '../options/input';
import type { ResponseCallOptions, ResponseKey } from './response-call';

/** A call's options, checked, with its TTL in ms. */
export interface Call {
  readonly noCache: boolean;
  readonly noStore: boolean;
  readonly ttlMs: number;
  readonly signal?: AbortSignal;
}

function flag(value: unknown, argument: string): boolean {
  if (value !== undefined && typeof value !== 'boolean') throw new RedisCacheInputError(argument, 'must be a boolean');
  return value === true;
}

/** The options of a call, checked: each error names `options.<option>`. */
export function resolveCall(options: ResponseCallOptions | undefined, cacheTtlMs: number): Call {
  assertOptions(options);
  const { noCache, noStore, signal } = options ?? {};
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new RedisCacheInputError('options.signal', 'must be an AbortSignal');
  }
  return {
    noCache: flag(noCache, 'options.noCache'),
    noStore: flag(noStore, 'options.noStore'),
    ttlMs: writeTtlMs(options, cacheTtlMs),
    signal,
  };
}

/** A key: a string, or null for a call that bypasses the cache. */
export function assertResponseKey(key: unknown): asserts key is ResponseKey {
  if (key !== null && (typeof key !== 'string' || key.length === 0)) {
    throw new RedisCacheInputError('key', 'must be a non-empty string, or null to bypass the cache');
  }
}
