import {
  BYTES_PER_ELEMENT,
  decodeToArray,
  decodeToFloat32Array,
  encodeVector,
  swapToLittleEndian,
} from './vector-codec';

/** The same bytes starting at an odd offset of a larger ArrayBuffer, as ioredis may hand them back. */
function unaligned(bytes: Buffer): Buffer {
  const shifted = Buffer.concat([Buffer.alloc(1), bytes]).subarray(1);
  expect(shifted.byteOffset % 4).not.toBe(0);
  return shifted;
}

describe('vector codec', () => {
  const float32Values = [Math.fround(0.1), Math.fround(-1.5e-7), Math.fround(3.4e38), 0, -0, Math.fround(Math.PI)];
  const doubles = [Math.PI, 1e-300, -Number.MAX_VALUE, Number.MIN_VALUE, 0.1, -0];

  it('stores float32 vectors as 4 little-endian bytes per element', () => {
    const bytes = encodeVector([1, -2, 0.5], 'float32');
    expect(BYTES_PER_ELEMENT.float32).toBe(4);
    expect([...bytes]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 0, 0, 0, 0x3f]);
  });

  it('stores float64 vectors as 8 little-endian bytes per element', () => {
    const bytes = encodeVector([1, -2], 'float64');
    expect(BYTES_PER_ELEMENT.float64).toBe(8);
    expect([...bytes]).toEqual([0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0]);
  });

  it('round-trips float32 values exactly, signed zero included', () => {
    const decoded = decodeToArray(encodeVector(float32Values, 'float32'), 'float32');
    expect(decoded).toEqual(float32Values);
    expect(Object.is(decoded![4], -0)).toBe(true);
  });

  it('rounds doubles to the nearest float32 in float32 precision', () => {
    expect(decodeToArray(encodeVector([Math.PI, 0.1], 'float32'), 'float32')).toEqual([
      Math.fround(Math.PI),
      Math.fround(0.1),
    ]);
  });

  it('round-trips doubles exactly in float64 precision', () => {
    expect(decodeToArray(encodeVector(doubles, 'float64'), 'float64')).toEqual(doubles);
  });

  it('encodes a Float32Array the same as the equal number[]', () => {
    const typed = Float32Array.from(float32Values);
    expect(encodeVector(typed, 'float32').equals(encodeVector(float32Values, 'float32'))).toBe(true);
  });

  it('decodes float32 bytes at an unaligned byte offset', () => {
    const bytes = unaligned(encodeVector(float32Values, 'float32'));
    expect(decodeToArray(bytes, 'float32')).toEqual(float32Values);
    expect(Array.from(decodeToFloat32Array(bytes, 'float32')!)).toEqual(float32Values);
  });

  it('decodes float64 bytes at an unaligned byte offset', () => {
    const bytes = unaligned(encodeVector(doubles, 'float64'));
    expect(decodeToArray(bytes, 'float64')).toEqual(doubles);
    expect(Array.from(decodeToFloat32Array(bytes, 'float64')!)).toEqual(doubles.map(Math.fround));
  });

  it('gives a Float32Array that owns its memory, not a view of the reply buffer', () => {
    const bytes = encodeVector([1, 2, 3], 'float32');
    const decoded = decodeToFloat32Array(bytes, 'float32')!;
    bytes.fill(0);
    expect(decoded).toBeInstanceOf(Float32Array);
    expect(decoded.byteOffset).toBe(0);
    expect(decoded.buffer.byteLength).toBe(12);
    expect(Array.from(decoded)).toEqual([1, 2, 3]);
  });

  it('gives a number[] that does not change when the reply buffer is reused', () => {
    const bytes = encodeVector([1, 2, 3], 'float32');
    const decoded = decodeToArray(bytes, 'float32');
    bytes.fill(0);
    expect(decoded).toEqual([1, 2, 3]);
  });

  it.each([
    ['empty', Buffer.alloc(0), 'float32'],
    ['not a multiple of 4 bytes', Buffer.alloc(6), 'float32'],
    ['not a multiple of 8 bytes', Buffer.alloc(12), 'float64'],
  ] as const)('decodes bytes that cannot be a vector (%s) as null', (_case, bytes, precision) => {
    expect(decodeToArray(bytes, precision)).toBeNull();
    expect(decodeToFloat32Array(bytes, precision)).toBeNull();
  });
});

describe('little-endian on every host', () => {
  it('stores IEEE 754 elements little-endian: 1.0 as float32 is 00 00 80 3f', () => {
    expect([...encodeVector([1], 'float32')]).toEqual([0x00, 0x00, 0x80, 0x3f]);
    expect([...encodeVector([1], 'float64')]).toEqual([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
  });

  it('on a big-endian host, swaps each element’s bytes to little-endian, and back', () => {
    const bigEndianOne = Buffer.from([0x3f, 0x80, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00]); // 1.0, 2.0 as a BE host holds them
    expect([...swapToLittleEndian(Buffer.from(bigEndianOne), 4, false)]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]);
    expect([...swapToLittleEndian(Buffer.from(bigEndianOne), 4, true)]).toEqual([...bigEndianOne]);
    const float64 = Buffer.from([0x3f, 0xf0, 0, 0, 0, 0, 0, 0]);
    expect([...swapToLittleEndian(float64, 8, false)]).toEqual([0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
  });
});
