'use strict';
// A micro-benchmark behind the library's vector decoding (vector-codec.ts):
// Array.from over a Float32Array
// against an indexed loop into a preallocated array. Pure CPU, no Redis.

const { DIMENSIONS, vectorFor } = require('./fixtures');

const WARMUP = 2000;
const ROUNDS = 20000;

function viaArrayFrom(floats) {
  return Array.from(floats);
}

function viaLoop(floats) {
  const out = new Array(floats.length);
  for (let i = 0; i < floats.length; i++) out[i] = floats[i];
  return out;
}

/** Microseconds per decode of one 1536-d float32 vector to number[], for each way. */
function measureDecodeVariants() {
  const floats = Float32Array.from(vectorFor(0));
  const results = {};
  for (const [name, decode] of Object.entries({ arrayFrom: viaArrayFrom, loop: viaLoop })) {
    for (let i = 0; i < WARMUP; i++) decode(floats);
    const start = performance.now();
    let checksum = 0;
    for (let i = 0; i < ROUNDS; i++) checksum += decode(floats)[i % DIMENSIONS];
    results[name] = ((performance.now() - start) * 1000) / ROUNDS;
    if (!Number.isFinite(checksum)) throw new Error('decode produced a non-number');
  }
  console.log(
    `  decode 1536 float32 -> number[]: Array.from ${results.arrayFrom.toFixed(1)} us, loop ${results.loop.toFixed(1)} us`,
  );
  return results;
}

module.exports = { measureDecodeVariants, viaLoop };
