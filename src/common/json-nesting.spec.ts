import fc from 'fast-check';
import { nestsDeeperThan } from './json-nesting';

/** The nesting depth of a parsed JSON value, by walking it: the reference the one-pass scan must agree with. */
function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Object.values(value);
  return 1 + (children.length === 0 ? 0 : Math.max(...children.map(depthOf)));
}

/** The deepest nesting that `nestsDeeperThan` lets through, found by asking it at each limit. */
function scannedDepth(text: string): number {
  let depth = 0;
  while (nestsDeeperThan(text, depth)) depth++;
  return depth;
}

describe('nestsDeeperThan', () => {
  it.each([
    ['1', 0],
    ['"text"', 0],
    ['{}', 1],
    ['[1, 2]', 1],
    ['{"a": []}', 2],
    ['[[], [[]], []]', 3],
    ['{"messages": [{"role": "user", "content": "a"}]}', 3],
  ])('gives %s a depth of %d', (text, depth) => {
    expect(scannedDepth(text)).toBe(depth);
  });

  it('does not count brackets within strings, escaped quotes and backslashes included', () => {
    expect(scannedDepth(String.raw`{"a": "[[[{{{"}`)).toBe(1);
    expect(scannedDepth(String.raw`{"a": "\"[[[", "b": "]]]\""}`)).toBe(1);
    expect(scannedDepth(String.raw`{"a\\": ["\\", "\\\"[["]}`)).toBe(2);
    expect(scannedDepth(String.raw`["\u005c", [["\\\\"]]]`)).toBe(3);
  });

  it('answers at the first level past the limit, however deep the text goes', () => {
    const deep = `{"title":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(nestsDeeperThan(deep, 64)).toBe(true);
    expect(nestsDeeperThan(deep, 100_001)).toBe(false);
    expect(nestsDeeperThan(deep, 100_000)).toBe(true);
  });

  it('agrees with the depth of what JSON.parse builds, for any JSON text', () => {
    const stringUnit = fc.constantFrom('[', ']', '{', '}', '"', '\\', 'a', 'é', '\u2028');
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8, stringUnit }), fc.nat(2), (value, indent) => {
        const text = JSON.stringify(value, null, indent);
        expect(scannedDepth(text)).toBe(depthOf(JSON.parse(text)));
      }),
      { numRuns: 500 },
    );
  });
});
