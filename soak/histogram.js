'use strict';
// Latencies as counts in logarithmic bins (each 5% wider than the last, from 10 µs): small enough to send every
// second from each worker, and bins of several workers add up, so the runner's percentiles are over all their
// calls, not an average of theirs.

const FLOOR_MS = 0.01;
const GROWTH = Math.log(1.05);

/** The bin of a latency in ms. */
function binOf(ms) {
  return ms <= FLOOR_MS ? 0 : Math.floor(Math.log(ms / FLOOR_MS) / GROWTH) + 1;
}

/** The upper edge of bin `bin`, in ms: what a percentile falling in it reports. */
function edgeOf(bin) {
  return FLOOR_MS * Math.exp(bin * GROWTH);
}

/** A histogram as a plain object (bin -> count), so that it crosses the IPC channel as it is. */
function record(histogram, ms) {
  const bin = binOf(ms);
  histogram[bin] = (histogram[bin] ?? 0) + 1;
}

function merge(histograms) {
  const merged = {};
  for (const histogram of histograms) {
    for (const [bin, count] of Object.entries(histogram)) merged[bin] = (merged[bin] ?? 0) + count;
  }
  return merged;
}

/** The `q` quantile (0..1) in ms, or null for an empty histogram. */
function quantile(histogram, q) {
  const bins = Object.keys(histogram)
    .map(Number)
    .sort((a, b) => a - b);
  const total = bins.reduce((sum, bin) => sum + histogram[bin], 0);
  if (total === 0) return null;
  let seen = 0;
  for (const bin of bins) {
    seen += histogram[bin];
    if (seen >= q * total) return edgeOf(bin);
  }
  return edgeOf(bins[bins.length - 1]);
}

module.exports = { merge, quantile, record };
