import fc from 'fast-check';
import { FLOAT16_MAX, float16Values, toFloat16Bits } from './float16';
import { decodeToArray, decodeToFloat32Array, encodeVector } from './vector-codec';

const values = float16Values();

/** Every finite float16 that is not negative, by increasing value (bits 0x0000 to 0x7bff). */
const ascending = Array.from({ length: 0x7c00 }, (_, bits) => values[bits]);

const view = new DataView(new ArrayBuffer(8));
/** The float64 next to `x` toward +Infinity (`up`) or toward -Infinity. */
function nextDouble(x: number, up: boolean): number {
  if (x === 0) return up ? Number.MIN_VALUE : -Number.MIN_VALUE;
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  view.setBigUint64(0, x > 0 === up ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

/** The reference: the nearest float16 by search over every float16, ties to the even bit pattern. */
function nearestBits(x: number): number {
  const magnitude = Math.abs(x);
  let low = 0;
  let high = ascending.length - 1;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (ascending[middle] <= magnitude) low = middle;
    else high = middle;
  }
  const below = magnitude - ascending[low];
  const above = ascending[high] - magnitude;
  const bits = below < above ? low : above < below ? high : low % 2 === 0 ? low : high;
  const exact = ascending[low] === magnitude ? low : bits;
  return (x < 0 || Object.is(x, -0) ? 0x8000 : 0) | exact;
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return dot / Math.sqrt(aa * bb);
}

// Read once: inside Jest's vm context every lookup of a global such as Math is slow, and the cosine test below makes
// tens of millions of these calls to draw its 3,000 vectors. It took 9.3 s with Math.x at each call, and 2.5 s so.
const { cos, imul, log, PI, sqrt } = Math;

/** A deterministic generator (mulberry32), so a failure names the vector that failed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal deviate (Box-Muller). */
function normal(next: () => number): number {
  return sqrt(-2 * log(1 - next())) * cos(2 * PI * next());
}

describe('toFloat16Bits', () => {
  it('gives back the bits of every finite float16, both zeros and the subnormals included', () => {
    const wrong: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue; // infinities and NaNs are never stored
      if (toFloat16Bits(values[bits]) !== bits) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
    expect([values[0x7bff], values[0x0001], values[0x0400]]).toEqual([FLOAT16_MAX, 2 ** -24, 2 ** -14]);
  });

  it('rounds a value halfway between two float16s to the even one, and one float64 off it to the nearer', () => {
    const wrong: string[] = [];
    for (let bits = 0; bits < ascending.length - 1; bits++) {
      const middle = (ascending[bits] + ascending[bits + 1]) / 2;
      const even = bits % 2 === 0 ? bits : bits + 1;
      const got = [
        toFloat16Bits(middle),
        toFloat16Bits(nextDouble(middle, false)),
        toFloat16Bits(nextDouble(middle, true)),
      ];
      const want = [even, bits, bits + 1];
      if (got.some((g, i) => g !== want[i])) wrong.push(`${bits}: got ${got.join(',')}, want ${want.join(',')}`);
      if (toFloat16Bits(-middle) !== (0x8000 | even)) wrong.push(`-${bits}`);
    }
    expect(wrong).toEqual([]);
  });

  it('rounds to zero below half the smallest subnormal, keeping the sign', () => {
    expect([2 ** -26, 2 ** -25, -(2 ** -25), 1e-300, -0, 0].map(toFloat16Bits)).toEqual([0, 0, 0x8000, 0, 0x8000, 0]);
    expect(toFloat16Bits(nextDouble(2 ** -25, true))).toBe(1);
  });

  it('is the nearest float16, ties to even, for any number in range', () => {
    fc.assert(
      fc.property(fc.double({ min: -FLOAT16_MAX, max: FLOAT16_MAX, noNaN: true }), (x) => {
        expect(toFloat16Bits(x)).toBe(nearestBits(x));
      }),
      { numRuns: 20_000 },
    );
  });
});

describe('float16 vectors', () => {
  it('decode to exactly the float16 each element rounds to, as number[] and as Float32Array', () => {
    const vector = [0.1, -2.5, 65504, 1e-8, 3 * 2 ** -25, -0.33333];
    const stored = encodeVector(vector, 'float16');
    expect(stored.length).toBe(12);
    const rounded = vector.map((x) => values[toFloat16Bits(x)]);
    expect(decodeToArray(stored, 'float16')).toEqual(rounded);
    expect(Array.from(decodeToFloat32Array(stored, 'float16') as Float32Array)).toEqual(rounded);
    expect(rounded).toEqual([0.0999755859375, -2.5, 65504, 0, 2 ** -23, -0.333251953125]);
  });

  it('are little-endian: 1.0 is stored as 00 3c', () => {
    expect([...encodeVector([1, -2], 'float16')]).toEqual([0x00, 0x3c, 0x00, 0xc0]);
  });

  it('keep the cosine similarity with the original within 1e-3, on unit and realistic 1536-d vectors', () => {
    const next = random(1536);
    const shapes: Record<string, () => number[]> = {
      'unit, uniform direction': () => {
        const v = Array.from({ length: 1536 }, () => normal(next));
        const norm = Math.sqrt(v.reduce((sum, x) => sum + x * x, 0));
        return v.map((x) => x / norm);
      },
      'OpenAI-like, N(0, 0.025)': () => Array.from({ length: 1536 }, () => 0.025 * normal(next)),
      'unnormalised, N(0, 4) with outliers to 300': () =>
        Array.from({ length: 1536 }, (_, i) => (i % 97 === 0 ? 300 * (next() - 0.5) * 2 : 4 * normal(next))),
    };
    for (const [shape, make] of Object.entries(shapes)) {
      let worst = 1;
      for (let n = 0; n < 1000; n++) {
        const vector = make();
        worst = Math.min(worst, cosine(vector, decodeToArray(encodeVector(vector, 'float16'), 'float16')!));
      }
      expect({ shape, within: 1 - worst <= 1e-3 }).toEqual({ shape, within: true });
    }
  });
});
