'use strict';
// The guard on the scripts' cost: the instructions redis-server executes per library call
// (bench/script-instructions.js) against the figures committed in bench/script-instructions.json. A figure more
// than TOLERANCE above its committed one fails the check; a change that raises one that much says why in its note
// and commits the new figures (`--write`). Pure: no valgrind, no Redis, so that a unit spec checks the rule.

/** How far above its committed figure a call's count may go: 5%. */
const TOLERANCE = 0.05;

/**
 * Each committed call's figure against the measured one: `{ name, committed, measured, rise }` (rise as a
 * fraction, 0.05 for 5%), `over` the calls above the tolerance, `missing` the committed calls not measured, and
 * `ok` when neither has any.
 */
function compareInstructions(committed, measured, tolerance = TOLERANCE) {
  const rows = Object.entries(committed).map(([name, figure]) => ({
    name,
    committed: figure,
    measured: measured[name],
    rise: measured[name] === undefined ? undefined : measured[name] / figure - 1,
  }));
  const missing = rows.filter((row) => row.measured === undefined).map((row) => row.name);
  // in whole instructions, so that exactly 5% above is within and a float's rounding never decides
  const over = rows.filter(
    (row) => row.measured !== undefined && row.measured > Math.floor(row.committed * (1 + tolerance)),
  );
  return { rows, over, missing, ok: over.length === 0 && missing.length === 0 };
}

module.exports = { TOLERANCE, compareInstructions };
