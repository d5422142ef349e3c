'use strict';
// What a worker counts: every call by operation and result, the traffic's latencies and calls per second (sent to
// the runner each second, then reset), the wrong reads with their first examples, and the calls that rejected.

const { record } = require('./histogram');

/** The wrong reads (of each reason) and rejections kept in full; past these, only counted. */
const EXAMPLES = 20;
const EXAMPLES_PER_REASON = 5;

class WorkerStats {
  operations = {};
  wrong = { count: 0, byReason: {}, examples: [] };
  rejected = { count: 0, examples: [] };
  reads = { judged: 0 };

  constructor() {
    this.resetInterval();
  }

  resetInterval() {
    this.interval = { latency: {}, calls: 0, fallbacks: 0, byKind: {} };
  }

  /** A finished call; a probe's counts by operation only, so that the traffic's figures stay the traffic's. */
  call({ name, kind, outcome, start, end }, probe) {
    const operation = (this.operations[name] ??= {});
    operation[outcome] = (operation[outcome] ?? 0) + 1;
    if (probe) return;
    const { interval } = this;
    record(interval.latency, end - start);
    interval.calls++;
    const byKind = (interval.byKind[kind] ??= { calls: 0, fallbacks: 0 });
    byKind.calls++;
    if (outcome === 'fallback') {
      interval.fallbacks++;
      byKind.fallbacks++;
    }
  }

  /** A served value the model judged; `wrong` is null when it was right. */
  judged(wrong) {
    this.reads.judged++;
    if (!wrong) return;
    this.wrong.count++;
    const seen = (this.wrong.byReason[wrong.reason] = (this.wrong.byReason[wrong.reason] ?? 0) + 1);
    if (seen <= EXAMPLES_PER_REASON) this.wrong.examples.push(wrong);
  }

  rejection(name, error) {
    this.rejected.count++;
    if (this.rejected.examples.length < EXAMPLES) {
      this.rejected.examples.push({ op: name, error: `${error?.name}: ${error?.message}` });
    }
  }

  /** This second's figures, then a fresh second. */
  takeInterval() {
    const interval = this.interval;
    this.resetInterval();
    return interval;
  }
}

module.exports = { WorkerStats };
