'use strict';
// Rounds: every case runs once per round, the systems in a different order each
// round, and a case's rounds reduce to the median round with the min–max spread.

/** The lower median: of an even count, the lower middle value, so that it is always a measured one. */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** Per-round values as their median with the min and max: `{ values, value, min, max }`. */
function summarize(values) {
  return { values, value: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/** a[i] / b[i], round by round: a ratio only ever compares two figures measured in the same round. */
function ratios(a, b) {
  return a.map((value, i) => value / b[i]);
}

/** The systems in this round's order: rotated by an even share per round, so that none always goes first. */
function rotated(systems, round, rounds) {
  const shift = Math.floor((round * systems.length) / rounds) % systems.length;
  return [...systems.slice(shift), ...systems.slice(0, shift)];
}

/**
 * One case's rounds (results of `measure`, in round order) as one result: the
 * figures of the median round by ops/s, plus `opsPerSecMin`, `opsPerSecMax`
 * and every round's ops/s in `opsPerSecRounds`; `failed` counts the failures
 * of all rounds, so that one in any round shows.
 */
function acrossRounds(results) {
  const rounds = results.map((r) => r.opsPerSec);
  const { value, min, max } = summarize(rounds);
  return {
    ...results.find((r) => r.opsPerSec === value),
    failed: results.reduce((sum, r) => sum + r.failed, 0),
    error: results.find((r) => r.error)?.error,
    opsPerSecMin: min,
    opsPerSecMax: max,
    opsPerSecRounds: rounds,
    commandsRounds: results.map((r) => r.commands),
  };
}

module.exports = { acrossRounds, median, ratios, rotated, summarize };
