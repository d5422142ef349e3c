import { decodeResponse, encodeResponse } from './response-codec';

describe('the response codec', () => {
  it('round-trips JSON, Dates, Uint8Arrays and objects that have a $wbot key of their own, at any depth', () => {
    const value = {
      text: 'héllo "quoted"\nnext line',
      at: new Date('2026-01-02T03:04:05.678Z'),
      nested: [{ bytes: new Uint8Array([0, 1, 254, 255]), when: [new Date(0)] }],
      $wbot: 'date',
      mine: { $wbot: 'bytes', v: 'AAAA', inner: { $wbot: 'object', v: new Date(7) } },
      empty: {},
      list: [null, 1.5, -2, true],
    };
    const encoded = encodeResponse(value)!;
    expect(encoded).not.toContain('\n');
    const decoded = decodeResponse(encoded) as typeof value;
    expect(decoded).toEqual(value);
    expect(decoded.at).toBeInstanceOf(Date);
    expect(decoded.nested[0].bytes).toBeInstanceOf(Uint8Array);
    expect(decoded.mine.inner.v).toBeInstanceOf(Date);
  });

  it('revives a tagged value under a __proto__ key as that own property, leaving the prototype as it was', () => {
    // as JSON.parse makes it from a model's JSON (a tool call's input, say): an own property named __proto__
    const value = JSON.parse('{"__proto__":null,"kept":1}') as Record<string, unknown>;
    Object.defineProperty(value, '__proto__', {
      value: new Date(5),
      enumerable: true,
      writable: true,
      configurable: true,
    });
    const decoded = decodeResponse(encodeResponse({ input: value })!) as { input: Record<string, unknown> };
    expect(Object.getPrototypeOf(decoded.input)).toBe(Object.prototype);
    expect(Object.hasOwn(decoded.input, '__proto__')).toBe(true);
    expect(decoded.input['__proto__']).toEqual(new Date(5));
    expect(decoded.input.kept).toBe(1);
  });

  it('writes a Buffer as the Uint8Array of its bytes, whatever its offset', () => {
    const pooled = Buffer.from('abcdef').subarray(2, 5);
    expect(decodeResponse(encodeResponse({ pooled })!)).toEqual({ pooled: new Uint8Array([99, 100, 101]) });
  });

  it('leaves out undefined properties and writes non-finite numbers as null, as JSON does', () => {
    expect(decodeResponse(encodeResponse({ a: undefined, b: NaN, c: [Infinity] })!)).toEqual({ b: null, c: [null] });
  });

  it('cannot encode a BigInt, a cycle, an invalid date or another typed array, and says so with undefined', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const value of [{ n: 1n }, cycle, { at: new Date(NaN) }, { v: new Float32Array([1]) }]) {
      expect(encodeResponse(value)).toBeUndefined();
    }
  });
});
