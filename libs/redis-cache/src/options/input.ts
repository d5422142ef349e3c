import {
  MAX_CONVERSATION_ID_LENGTH,
  MAX_MESSAGE_DEPTH,
  MAX_TENANT_ID_LENGTH,
  MAX_TTL_SECONDS,
  MAX_USER_ID_LENGTH,
} from './defaults';
import { RedisCacheInputError } from '../errors';
import type { Precision } from '../keys';
import { FLOAT16_MAX } from '../embeddings/float16';

/**
 * Argument checks. Each throws RedisCacheInputError naming the argument; the
 * services call them inside their async methods, so callers see a rejection.
 */

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

function assertId(value: unknown, argument: string, maxLength: number): asserts value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new RedisCacheInputError(argument, `must be a non-empty string of at most ${maxLength} characters`);
  }
  if (!value.isWellFormed()) {
    throw new RedisCacheInputError(argument, 'must be well-formed Unicode (it has a lone surrogate)');
  }
}

/** A user id: a non-empty, well-formed string of at most `MAX_USER_ID_LENGTH` code units. */
export function assertUserId(value: unknown): asserts value is string {
  assertId(value, 'userId', MAX_USER_ID_LENGTH);
}

/** A tenant id (the response cache's): a non-empty, well-formed string of at most `MAX_TENANT_ID_LENGTH` code units. */
export function assertTenant(value: unknown): asserts value is string {
  assertId(value, 'tenant', MAX_TENANT_ID_LENGTH);
}

/**
 * A conversation id: a non-empty, well-formed string of at most
 * `MAX_CONVERSATION_ID_LENGTH` code units, with no control characters: unlike a
 * user id, it goes into key names as it is.
 */
export function assertConversationId(value: unknown): asserts value is string {
  assertId(value, 'conversationId', MAX_CONVERSATION_ID_LENGTH);
  if (CONTROL_CHARACTERS.test(value)) {
    throw new RedisCacheInputError('conversationId', 'must not contain control characters');
  }
}

/** A text to embed: any string, the empty one included. */
export function assertText(value: unknown, argument: string): asserts value is string {
  if (typeof value !== 'string') throw new RedisCacheInputError(argument, 'must be a string');
}

/** A batch: an array of at most `maxLength` elements; the caller checks the elements. */
export function assertArray(value: unknown, argument: string, maxLength: number): asserts value is unknown[] {
  if (!Array.isArray(value)) throw new RedisCacheInputError(argument, 'must be an array');
  if (value.length > maxLength) {
    throw new RedisCacheInputError(argument, `must have at most ${maxLength} elements (got ${value.length})`);
  }
}

/** The largest magnitude each precision holds: a larger element would be stored as infinity. */
const PRECISION_MAX: Record<Precision, number> = {
  float16: FLOAT16_MAX,
  float32: 3.4028234663852886e38,
  float64: Number.MAX_VALUE,
};

/** A vector must be non-empty, within the dimension limit, and finite in the stored precision. */
export function assertVector(
  value: unknown,
  argument: string,
  maxDimensions: number,
  precision: Precision,
): asserts value is ArrayLike<number> {
  const isVector = Array.isArray(value) || value instanceof Float32Array || value instanceof Float64Array;
  if (!isVector) throw new RedisCacheInputError(argument, 'must be an array of numbers');
  if (value.length === 0) throw new RedisCacheInputError(argument, 'must not be empty');
  if (value.length > maxDimensions) {
    throw new RedisCacheInputError(argument, `must have at most ${maxDimensions} dimensions (got ${value.length})`);
  }
  const limit = PRECISION_MAX[precision];
  for (let i = 0; i < value.length; i++) {
    const element: unknown = value[i];
    if (typeof element !== 'number' || !Number.isFinite(element) || Math.abs(element) > limit) {
      throw new RedisCacheInputError(`${argument}[${i}]`, `must be a finite ${precision} number`);
    }
  }
}

/** A callback the cache calls on a miss: the loader or the compute function. */
export function assertFunction(value: unknown, argument: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw new RedisCacheInputError(argument, 'must be a function');
}

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A call's options: absent, or an object. */
export function assertOptions(value: unknown, argument = 'options'): asserts value is object | undefined {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new RedisCacheInputError(argument, 'must be an object');
  }
}

/**
 * A write's TTL in ms, from its options: absent, or an object whose
 * `ttlSeconds`, when set, is within the bounds of the caches' own `ttlSeconds`
 * option (an integer from 1 to `MAX_TTL_SECONDS`). Without one, the cache's
 * `cacheTtlMs`. Errors name `argument` (`options` unless given), e.g. `options.ttlSeconds`.
 */
export function writeTtlMs(value: unknown, cacheTtlMs: number, argument = 'options'): number {
  assertOptions(value, argument);
  const ttlSeconds = (value as { ttlSeconds?: unknown } | undefined)?.ttlSeconds;
  if (ttlSeconds === undefined) return cacheTtlMs;
  if (
    typeof ttlSeconds !== 'number' ||
    !Number.isSafeInteger(ttlSeconds) ||
    ttlSeconds < 1 ||
    ttlSeconds > MAX_TTL_SECONDS
  ) {
    throw new RedisCacheInputError(
      `${argument}.ttlSeconds`,
      `must be an integer from 1 to ${MAX_TTL_SECONDS} (got ${JSON.stringify(ttlSeconds)})`,
    );
  }
  return ttlSeconds * 1000;
}

/**
 * A message must be a plain JSON object that reads back deep-equal after a JSON
 * round trip: only strings, finite numbers, booleans, null, arrays and plain
 * objects, no cycles, no `__proto__` key anywhere, and at most
 * `MAX_MESSAGE_DEPTH` levels of objects and arrays.
 */
export function assertJsonObject(value: unknown, argument: string): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) {
    throw new RedisCacheInputError(argument, 'must be a plain JSON object');
  }
  assertJsonValue(value, argument, new Set());
}

function assertJsonValue(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new RedisCacheInputError(path, 'must be a finite number');
      return;
    case 'object':
      break;
    default:
      throw new RedisCacheInputError(path, `must be JSON (got ${typeof value})`);
  }
  if (value === null) return;
  if (ancestors.has(value)) throw new RedisCacheInputError(path, 'must not be circular');
  if (ancestors.size >= MAX_MESSAGE_DEPTH) {
    throw new RedisCacheInputError(path, `must not nest deeper than ${MAX_MESSAGE_DEPTH} levels`);
  }
  ancestors.add(value);
  if (Array.isArray(value)) {
    value.forEach((item, index) => assertJsonValue(item, `${path}[${index}]`, ancestors));
  } else {
    if (!isPlainObject(value)) throw new RedisCacheInputError(path, 'must be a plain JSON object');
    for (const key of Object.keys(value)) {
      if (key === '__proto__') throw new RedisCacheInputError(`${path}.__proto__`, 'is not allowed');
      assertJsonValue((value as Record<string, unknown>)[key], `${path}.${key}`, ancestors);
    }
  }
  ancestors.delete(value);
}
