'use strict';
// One clock for the runner and its workers: wall-clock milliseconds with sub-millisecond precision, comparable
// across the processes of one machine, and with Redis's TIME, which the scripts' expiry runs on.

/** Now, in ms since the epoch. */
const clock = () => performance.timeOrigin + performance.now();

module.exports = { clock };
