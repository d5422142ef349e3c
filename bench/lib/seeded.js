'use strict';
// A small deterministic PRNG, for inputs that must be the same from run to run: the benches' fixtures, and the
// soak's traffic from its seed.

/** mulberry32: numbers in [0, 1), the same sequence for the same seed. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

module.exports = { seeded };
