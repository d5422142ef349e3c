'use strict';
// How docs/benchmarks.md writes a figure; shared by bench/report.js and bench/missed-notes.js.

const int = (n) => Math.round(n).toLocaleString('en-US');
const k = (n) => (n >= 1000 ? `${(n / 1000).toFixed(1)}k` : `${Math.round(n)}`);
const x = (n) => `${n.toFixed(2)}x`;
const us = (n) => `${Math.round(n)} µs`;
const ms = (n) => `${n.toFixed(2)} ms`;

/**
 * A median with its min–max over the rounds: a ratio, `0.87x (0.81–0.92)`, or a
 * figure in `unit`, `48 µs (45–52)`; alone if there was one value.
 */
const xRange = ({ value, min, max, values }, unit) => {
  const median = unit ? `${Math.round(value)} ${unit}` : x(value);
  if (values.length < 2) return median;
  return unit ? `${median} (${Math.round(min)}–${Math.round(max)})` : `${median} (${min.toFixed(2)}–${max.toFixed(2)})`;
};

/** A case's median ops/s with its min–max over the rounds, `29,605 (28.1k–30.2k)`; alone if there was one round. */
const opsRange = (r) =>
  r.opsPerSecRounds.length > 1 ? `${int(r.opsPerSec)} (${k(r.opsPerSecMin)}–${k(r.opsPerSecMax)})` : int(r.opsPerSec);

/** A target's bound: `>= 0.8x`, `<= 60 µs`, `= 1 call, every round`, or `>= 1x, median of 9 rounds`. */
const targetBound = (t) =>
  t.exact !== undefined
    ? `= ${t.exact} ${t.unit}, every round`
    : `${t.min !== undefined ? '>=' : '<='} ${t.min ?? t.max}${t.unit ? ` ${t.unit}` : 'x'}` +
      (t.rounds !== undefined ? `, median of ${t.rounds} rounds` : '');

module.exports = { int, k, x, us, ms, xRange, opsRange, targetBound };
