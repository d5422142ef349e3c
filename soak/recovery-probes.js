'use strict';
// How long after Redis is back each kind of call works again, for one fault in one worker: from just before the
// fault until a call of each kind in the fault's scope (the keys on the server or bucket it hit) has succeeded
// after Redis was back, a probe of that kind runs every PROBE_EVERY_MS. Success is the library's own outcome: any
// result but a fallback (a miss is Redis answering). The recovery time is from Redis back to the end of that call.

const { setTimeout: sleep } = require('node:timers/promises');
const { clock } = require('./clock');

const PROBE_EVERY_MS = 10;
/** A kind still failing this long after Redis is back did not recover (reported as such). */
const GIVE_UP_MS = 10_000;

class RecoveryProbes {
  /** `run(work)` runs a probe as the worker runs its traffic: after any pause, counted as in flight. */
  constructor(traffic, scope, run) {
    this.traffic = traffic;
    this.run = run;
    this.backAt = undefined;
    this.loops = traffic.probeTargets(scope).map(([kind, keys]) => this.probe(kind, keys));
  }

  /** Redis was back at `time`; the probes stop once each kind has succeeded since, or GIVE_UP_MS later. */
  back(time) {
    this.backAt = time;
  }

  /** Each probed kind's recovery in ms, null for one that did not recover. */
  async results() {
    return Object.fromEntries(await Promise.all(this.loops));
  }

  async probe(kind, keys) {
    const successes = [];
    const started = clock();
    for (;;) {
      const recovered = this.backAt !== undefined && successes.find((end) => end >= this.backAt);
      if (recovered !== undefined && recovered !== false) return [kind, Math.max(0, recovered - this.backAt)];
      const limit = this.backAt === undefined ? started + 6 * GIVE_UP_MS : this.backAt + GIVE_UP_MS;
      if (clock() > limit) return [kind, null];
      const call = await this.run(() => this.traffic.probe(kind, keys, this.backAt !== undefined));
      if (call && call.outcome !== 'fallback' && call.outcome !== 'untraced') successes.push(call.end);
      await sleep(PROBE_EVERY_MS);
    }
  }
}

module.exports = { RecoveryProbes };
