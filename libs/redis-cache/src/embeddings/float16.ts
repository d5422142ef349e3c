/**
 * IEEE 754 half precision (binary16), for vectors stored at 2 bytes per
 * dimension: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits. Node 22
 * has no Float16Array, so the conversions are done here, on the bits.
 */

/** The largest finite float16, 65504: a larger magnitude is out of range (the library rejects it). */
export const FLOAT16_MAX = 65504;

const scratch = new DataView(new ArrayBuffer(4));

/** The bits of `value` as a float32, rounded to odd: see `toFloat16Bits`. */
function float32BitsRoundedToOdd(value: number): number {
  scratch.setFloat32(0, value);
  let bits = scratch.getUint32(0);
  const rounded = scratch.getFloat32(0);
  if (rounded !== value) {
    // inexact: take the float32 next toward zero from `value` (its magnitude is
    // below `rounded`'s when rounding went up) and set its last bit
    if (Math.abs(rounded) > Math.abs(value)) bits -= 1;
    bits |= 1;
  }
  return bits >>> 0;
}

/**
 * The float16 nearest to `value`, ties to even, as its 16 bits. `value` must be
 * finite with a magnitude of at most FLOAT16_MAX (the caller checks).
 *
 * A number is a float64, and rounding it to float32 first, then to float16,
 * could round twice the wrong way at a tie. Rounding to float32 "to odd" (an
 * inexact result keeps a set last bit, so it can never land on a float16 tie)
 * and then to float16 to nearest even gives the correctly rounded result,
 * because float32 has more than twice float16's 11 significant bits plus two.
 */
export function toFloat16Bits(value: number): number {
  const bits = float32BitsRoundedToOdd(value);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  const fraction = bits & 0x7fffff;
  if (exponent >= 1) {
    // normal: keep 10 of the 23 fraction bits, rounding the 13 dropped ones to
    // nearest, ties to even; a carry moves into the exponent, as it should
    const kept = (exponent << 10) | (fraction >>> 13);
    const dropped = fraction & 0x1fff;
    const roundUp = dropped > 0x1000 || (dropped === 0x1000 && (kept & 1) === 1);
    return sign | (kept + (roundUp ? 1 : 0));
  }
  // subnormal or zero: the 24-bit significand shifted right so that its units are 2^-24
  if (exponent < -10) return sign; // under half the smallest subnormal (2^-25): rounds to zero
  const significand = fraction | 0x800000;
  const shift = 14 - exponent;
  const kept = significand >>> shift;
  const dropped = significand & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  const roundUp = dropped > half || (dropped === half && (kept & 1) === 1);
  return sign | (kept + (roundUp ? 1 : 0));
}

/** The value of a float16 given by its 16 bits. */
function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

let table: Float32Array | undefined;

/**
 * Every float16's value, by its bits (256 KB, built on first use): a decode is
 * then one lookup per element. Each float16 is exactly a float32.
 */
export function float16Values(): Float32Array {
  if (!table) {
    table = new Float32Array(0x10000);
    for (let bits = 0; bits < 0x10000; bits++) table[bits] = float16Value(bits);
  }
  return table;
}
