'use strict';
// A sample of times as the response suite reports them: its median, p99 and max.

/** `{ count, p50, p99, max }` of `values` (each percentile a measured value). */
function distribution(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  return { count: sorted.length, p50: at(50), p99: at(99), max: sorted[sorted.length - 1] };
}

module.exports = { distribution };
