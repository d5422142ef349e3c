import type { Precision } from '../keys';
import { float16Values, toFloat16Bits } from './float16';

/** How many bytes one stored vector element takes in each precision. */
export const BYTES_PER_ELEMENT: Record<Precision, number> = { float16: 2, float32: 4, float64: 8 };

/** Whether typed arrays on this host are little-endian (every platform Node ships for but s390x). */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Stored vectors are little-endian on every host, so that a reader in another
 * language or on another machine decodes them the same. Typed arrays use the
 * host's byte order: on a big-endian host, the bytes of each element are swapped
 * (in place: the callers pass a buffer of their own). The same swap turns stored
 * bytes into the host's order.
 */
export function swapToLittleEndian(bytes: Buffer, size: number, hostIsLittleEndian = HOST_IS_LITTLE_ENDIAN): Buffer {
  if (hostIsLittleEndian) return bytes;
  return size === 2 ? bytes.swap16() : size === 4 ? bytes.swap32() : bytes.swap64();
}

/** The typed array each precision is stored from and read into: float16 elements are their 16 bits. */
function typedFrom(vector: ArrayLike<number>, precision: Precision): Uint16Array | Float32Array | Float64Array {
  if (precision === 'float32') return Float32Array.from(vector);
  if (precision === 'float64') return Float64Array.from(vector);
  const halves = new Uint16Array(vector.length);
  for (let i = 0; i < vector.length; i++) halves[i] = toFloat16Bits(vector[i]);
  return halves;
}

/** The bytes a vector is stored as: each element in `precision` (rounded to nearest, ties to even), little-endian. */
export function encodeVector(vector: ArrayLike<number>, precision: Precision): Buffer {
  const typed = typedFrom(vector, precision);
  return swapToLittleEndian(Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength), typed.BYTES_PER_ELEMENT);
}

/**
 * A typed view over stored bytes. Buffers from ioredis may start at a byte offset
 * that is not a multiple of the element size, where a typed-array view throws a
 * RangeError, so those are copied first. Returns null for bytes that can't be a
 * vector of this precision. The view may share memory with the reply buffer:
 * callers copy out of it.
 */
function view(bytes: Buffer, precision: Precision): Uint16Array | Float32Array | Float64Array | null {
  const size = BYTES_PER_ELEMENT[precision];
  if (bytes.length === 0 || bytes.length % size !== 0) return null;
  // a copy is made at offset 0 of its own memory, so it is aligned (and may be swapped in place)
  const aligned =
    HOST_IS_LITTLE_ENDIAN && bytes.byteOffset % size === 0
      ? bytes
      : swapToLittleEndian(Buffer.from(new Uint8Array(bytes).buffer), size);
  const length = bytes.length / size;
  if (precision === 'float16') return new Uint16Array(aligned.buffer, aligned.byteOffset, length);
  return precision === 'float32'
    ? new Float32Array(aligned.buffer, aligned.byteOffset, length)
    : new Float64Array(aligned.buffer, aligned.byteOffset, length);
}

/** An indexed copy: several times faster than `Array.from` on a typed array (bench/lib/decode-variants.js). */
export function decodeToArray(bytes: Buffer, precision: Precision): number[] | null {
  const elements = view(bytes, precision);
  if (!elements) return null;
  const array = new Array<number>(elements.length);
  if (elements instanceof Uint16Array) {
    const values = float16Values();
    for (let i = 0; i < elements.length; i++) array[i] = values[elements[i]];
  } else {
    for (let i = 0; i < elements.length; i++) array[i] = elements[i];
  }
  return array;
}

/** Always a fresh Float32Array that owns its memory (float64 vectors are rounded; float16 ones are exact). */
export function decodeToFloat32Array(bytes: Buffer, precision: Precision): Float32Array | null {
  const elements = view(bytes, precision);
  if (!elements) return null;
  if (!(elements instanceof Uint16Array)) return Float32Array.from(elements);
  const values = float16Values();
  const floats = new Float32Array(elements.length);
  for (let i = 0; i < elements.length; i++) floats[i] = values[elements[i]];
  return floats;
}
