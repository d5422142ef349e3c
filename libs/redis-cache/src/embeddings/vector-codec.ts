import type { Precision } from '../keys';

/** How many bytes one stored vector element takes in each precision. */
export const BYTES_PER_ELEMENT: Record<Precision, number> = { float32: 4, float64: 8 };

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
  return size === 4 ? bytes.swap32() : bytes.swap64();
}

/** The bytes a vector is stored as: each element in `precision` (rounded, for float32), little-endian. */
export function encodeVector(vector: ArrayLike<number>, precision: Precision): Buffer {
  const typed = precision === 'float32' ? Float32Array.from(vector) : Float64Array.from(vector);
  return swapToLittleEndian(Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength), typed.BYTES_PER_ELEMENT);
}

/**
 * A typed view over stored bytes. Buffers from ioredis may start at a byte offset
 * that is not a multiple of the element size, where a typed-array view throws a
 * RangeError, so those are copied first. Returns null for bytes that can't be a
 * vector of this precision. The view may share memory with the reply buffer:
 * callers copy out of it.
 */
function view(bytes: Buffer, precision: Precision): Float32Array | Float64Array | null {
  const size = BYTES_PER_ELEMENT[precision];
  if (bytes.length === 0 || bytes.length % size !== 0) return null;
  // a copy is made at offset 0 of its own memory, so it is aligned (and may be swapped in place)
  const aligned =
    HOST_IS_LITTLE_ENDIAN && bytes.byteOffset % size === 0
      ? bytes
      : swapToLittleEndian(Buffer.from(new Uint8Array(bytes).buffer), size);
  const length = bytes.length / size;
  return precision === 'float32'
    ? new Float32Array(aligned.buffer, aligned.byteOffset, length)
    : new Float64Array(aligned.buffer, aligned.byteOffset, length);
}

/** An indexed copy: several times faster than `Array.from` on a typed array (bench/lib/decode-variants.js). */
export function decodeToArray(bytes: Buffer, precision: Precision): number[] | null {
  const floats = view(bytes, precision);
  if (!floats) return null;
  const array = new Array<number>(floats.length);
  for (let i = 0; i < floats.length; i++) array[i] = floats[i];
  return array;
}

/** Always a fresh Float32Array that owns its memory (float64 vectors are rounded). */
export function decodeToFloat32Array(bytes: Buffer, precision: Precision): Float32Array | null {
  const floats = view(bytes, precision);
  return floats && Float32Array.from(floats);
}
