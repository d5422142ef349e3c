import { MAX_USER_ID_LENGTH } from './defaults';
import { RedisCacheInputError } from '../errors';
import { assertArray, assertFunction, assertText, assertUserId, assertVector } from './input';

/** Runs a check and returns the RedisCacheInputError it threw, failing if it threw nothing or something else. */
function inputError(check: () => void): RedisCacheInputError {
  try {
    check();
  } catch (error) {
    expect(error).toBeInstanceOf(RedisCacheInputError);
    return error as RedisCacheInputError;
  }
  throw new Error('expected a RedisCacheInputError, but nothing was thrown');
}

/** A sparse array: `index` is a hole, which forEach would skip. */
function withHole(values: number[], index: number): number[] {
  const holey = [...values];
  delete holey[index];
  return holey;
}

describe('assertUserId', () => {
  it.each([
    ['a}b{c', 'a}b{c'],
    ['{x}', '{x}'],
    ['an emoji', 'user-😀'],
    ['1024 characters', 'u'.repeat(MAX_USER_ID_LENGTH)],
    ['512 emoji (1024 UTF-16 code units)', '😀'.repeat(MAX_USER_ID_LENGTH / 2)],
  ])('accepts %s', (_case, userId) => {
    expect(() => assertUserId(userId)).not.toThrow();
  });

  it.each([
    ['an empty string', ''],
    ['1025 characters', 'u'.repeat(MAX_USER_ID_LENGTH + 1)],
    ['10 KB', 'u'.repeat(10 * 1024)],
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
    ['a String object', new String('user')],
  ])('rejects %s naming userId', (_case, userId) => {
    const error = inputError(() => assertUserId(userId));
    expect(error.argument).toBe('userId');
    expect(error.message).toBe('userId must be a non-empty string of at most 1024 characters');
  });

  it.each([
    ['a lone high surrogate', 'user-\ud83d'],
    ['a lone low surrogate', '\ude00-user'],
    ['swapped surrogates', '\ude00\ud83d'],
  ])('rejects %s naming userId', (_case, userId) => {
    const error = inputError(() => assertUserId(userId));
    expect(error.argument).toBe('userId');
    expect(error.message).toBe('userId must be well-formed Unicode (it has a lone surrogate)');
  });
});

describe('assertText', () => {
  it.each([[''], ['hello'], ['\ud83d lone surrogates are fine in a text']])('accepts the string %j', (text) => {
    expect(() => assertText(text, 'text')).not.toThrow();
  });

  it.each([[undefined], [null], [1], [['a']], [Buffer.from('a')]])('rejects %p naming the argument', (text) => {
    const error = inputError(() => assertText(text, 'texts[3]'));
    expect(error.argument).toBe('texts[3]');
    expect(error.message).toBe('texts[3] must be a string');
  });
});

describe('assertArray', () => {
  it('accepts an empty array and one of exactly the maximum length', () => {
    expect(() => assertArray([], 'texts', 2)).not.toThrow();
    expect(() => assertArray(['a', 'b'], 'texts', 2)).not.toThrow();
  });

  it('rejects an array longer than the maximum, giving both lengths', () => {
    const error = inputError(() => assertArray(['a', 'b', 'c'], 'entries', 2));
    expect(error.argument).toBe('entries');
    expect(error.message).toBe('entries must have at most 2 elements (got 3)');
  });

  it.each([
    ['a string', 'abc'],
    ['an array-like object', { length: 0 }],
    ['undefined', undefined],
  ])('rejects %s', (_case, value) => {
    const error = inputError(() => assertArray(value, 'texts', 10));
    expect(error.argument).toBe('texts');
    expect(error.message).toBe('texts must be an array');
  });
});

describe('assertVector', () => {
  it.each([
    ['a number[]', [0.5, -1, 0]],
    ['a Float32Array', Float32Array.of(1, 2)],
    ['a Float64Array', Float64Array.of(1, 2)],
    ['the largest float32', [3.4028234663852886e38, -3.4028234663852886e38]],
  ])('accepts %s in float32 precision', (_case, vector) => {
    expect(() => assertVector(vector, 'embedding', 4, 'float32')).not.toThrow();
  });

  it('accepts values beyond float32 range in float64 precision', () => {
    expect(() => assertVector([1e39, -Number.MAX_VALUE], 'embedding', 4, 'float64')).not.toThrow();
  });

  it.each([
    ['a string', 'abc'],
    ['an Int32Array', Int32Array.of(1)],
    ['an object', { 0: 1, length: 1 }],
    ['null', null],
  ])('rejects %s as not a vector', (_case, vector) => {
    const error = inputError(() => assertVector(vector, 'embedding', 4, 'float32'));
    expect(error.argument).toBe('embedding');
    expect(error.message).toBe('embedding must be an array of numbers');
  });

  it('rejects an empty vector', () => {
    const error = inputError(() => assertVector([], 'embedding', 4, 'float32'));
    expect(error.argument).toBe('embedding');
    expect(error.message).toBe('embedding must not be empty');
  });

  it('rejects more dimensions than the maximum, giving both counts', () => {
    const error = inputError(() => assertVector([1, 2, 3, 4, 5], 'entries[1].embedding', 4, 'float32'));
    expect(error.argument).toBe('entries[1].embedding');
    expect(error.message).toBe('entries[1].embedding must have at most 4 dimensions (got 5)');
  });

  it.each([
    ['NaN', [0, 1, NaN], 2],
    ['Infinity', [Infinity], 0],
    ['-Infinity', [0, -Infinity], 1],
    ['a string element', [0, '1'], 1],
    ['a hole', withHole([0, 0, 1], 1), 1],
    ['a float32 overflow', [1, 1e39], 1],
    ['a negative float32 overflow', [-1e39], 0],
  ])('rejects %s in float32 precision naming the element', (_case, vector, index) => {
    const error = inputError(() => assertVector(vector, 'embedding', 4, 'float32'));
    expect(error.argument).toBe(`embedding[${index}]`);
    expect(error.message).toBe(`embedding[${index}] must be a finite float32 number`);
  });

  it('rejects NaN in float64 precision naming the element and the precision', () => {
    const error = inputError(() => assertVector([0, NaN], 'embedding', 4, 'float64'));
    expect(error.argument).toBe('embedding[1]');
    expect(error.message).toBe('embedding[1] must be a finite float64 number');
  });
});

describe('assertFunction', () => {
  it('accepts a function and an async function', () => {
    expect(() => assertFunction(() => 1, 'compute')).not.toThrow();
    expect(() => assertFunction(async () => 1, 'compute')).not.toThrow();
  });

  it.each([[undefined], [{}], ['compute']])('rejects %p naming the argument', (value) => {
    const error = inputError(() => assertFunction(value, 'compute'));
    expect(error.argument).toBe('compute');
    expect(error.message).toBe('compute must be a function');
  });
});
