'use strict';
// The faults, one at a time, every `faultEvery` seconds, each kind in turn and on each topology in turn:
// - kill: SIGKILL, then the server restarted on its port (it reloads the foreign keys it saved, none of ours);
// - freeze: SIGSTOP for `freezeMs`, then SIGCONT;
// - drop: DEL of a message bucket's bookkeeping (lru, sizes, total, or lru and sizes), or of a user's lru;
// - flush: SCRIPT FLUSH on every server of the topology;
// - restart: every worker of the topology closes its module and creates it again on the same clients.
// Around each, the workers of the topology probe the calls it touches, and report how long after Redis was back
// each kind recovered.

const { setTimeout: sleep } = require('node:timers/promises');
const { buckets } = require('./cache-options');
const { clock } = require('./clock');
const { retried } = require('./retry');
const { withClient } = require('./test-support');

const KINDS = ['kill', 'freeze', 'drop', 'flush', 'restart'];
/** In turn over the run, whichever the topology: the loss that makes a script look for the lists first. */
const DROPS = ['lru and sizes', 'a user lru', 'total', 'lru', 'sizes'];
/** The least time between the end of one fault's recovery and the next fault. */
const GAP_MS = 1000;

class FaultInjector {
  events = [];
  counts = {};

  /** `topologies` and `workers` by topology name; `options` the soak's. */
  constructor({ topologies, workers, options }) {
    this.topologies = topologies;
    this.workers = workers;
    this.options = options;
    this.names = options.topologies;
  }

  /** Runs faults until `endAt` (ms since the epoch): none starts after it. */
  async run(endAt) {
    const everyMs = this.options.faultEvery * 1000;
    let next = clock();
    for (let round = 0; ; round++) {
      if (next > endAt) return;
      if (next > clock()) await sleep(next - clock());
      const kind = KINDS[round % KINDS.length];
      // each kind on each topology in turn: the second round of kinds starts on the other topology
      const name = this.names[((round % KINDS.length) + Math.floor(round / KINDS.length)) % this.names.length];
      const n = this.count(`${kind} ${name}`);
      const started = clock();
      this.events.push({ id: round + 1, kind, topology: name, at: started, ...(await this[kind](name, n)) });
      next = Math.max(started + everyMs, clock() + GAP_MS);
    }
  }

  count(key) {
    this.counts[key] = (this.counts[key] ?? 0) + 1;
    return this.counts[key] - 1;
  }

  /** Tells the topology's workers to probe `scope`, does `fault` (resolving with when Redis was back), collects. */
  async probed(name, scope, fault, losingBucketLru) {
    const workers = this.workers[name];
    await Promise.all(workers.map((worker) => worker.request('fault-start', { scope, losingBucketLru })));
    const at = clock();
    let done;
    let error;
    try {
      done = await fault();
    } catch (failure) {
      // the probes still end; the fault is reported as not done
      error = failure instanceof Error ? failure.message : String(failure);
      done = clock();
    }
    // a DEL is back when it was sent, and the key lost once it was answered
    const { backAt, lostAt = backAt } = typeof done === 'number' ? { backAt: done } : done;
    const replies = await Promise.all(
      workers.map((worker) => worker.request('fault-back', { scope, backAt, lostAt, losingBucketLru })),
    );
    if (error) return { at, backAt, error, recoveries: [] };
    return {
      at,
      backAt,
      recoveries: replies.map(({ kinds }, i) => ({ worker: workers[i].name, backAt, kinds })),
    };
  }

  target(name, n) {
    const targets = this.topologies[name].targets();
    return targets[n % targets.length];
  }

  async kill(name, n) {
    const target = this.target(name, n);
    const topology = this.topologies[name];
    return { target: target.name, ...(await this.probed(name, target.scope, () => topology.restart(target))) };
  }

  async freeze(name, n) {
    const target = this.target(name, n);
    const topology = this.topologies[name];
    const { freezeMs } = this.options;
    const result = await this.probed(name, target.scope, () => topology.freeze(target, freezeMs));
    return { target: `${target.name}, ${freezeMs} ms`, ...result };
  }

  /**
   * The workers hold their calls from just before the flush until each has read its canary (traffic.js), so that
   * this batch read is the first touch script on its connection after the flush: the one that meets the NOSCRIPT.
   */
  async flush(name) {
    const topology = this.topologies[name];
    const scope = { all: true, canaryFirst: true };
    return { target: 'every server', ...(await this.probed(name, scope, () => topology.flushScripts())) };
  }

  async drop(name, n) {
    const variant = DROPS[this.count('drop') % DROPS.length];
    if (variant === 'a user lru') return this.dropUserLru(name, n);
    const all = buckets(name);
    const { bucket, keys } = all[Math.floor(n / DROPS.length) % all.length];
    const deleted = {
      lru: [keys.lru],
      sizes: [keys.sizes],
      total: [keys.total],
      'lru and sizes': [keys.lru, keys.sizes],
    }[variant];
    const server = await this.topologies[name].serverOfBucket(keys);
    const losing = deleted.includes(keys.lru) ? bucket : undefined;
    const result = await this.probed(
      name,
      { bucket },
      () =>
        withClient(server.port, async (admin) => {
          let backAt;
          await retried(() => {
            backAt = clock();
            return admin.del(...deleted);
          });
          return { backAt, lostAt: clock() };
        }),
      losing,
    );
    return { target: `bucket ${bucket}: ${deleted.join(', ')}`, ...result };
  }

  async dropUserLru(name, n) {
    const workers = this.workers[name];
    const worker = workers[n % workers.length];
    const reply = await worker.request('drop-user-lru', { round: n });
    return {
      target: `${reply.key} (by ${worker.name})`,
      at: reply.backAt,
      backAt: reply.backAt,
      recoveries: [{ worker: worker.name, backAt: reply.backAt, kinds: reply.kinds }],
    };
  }

  async restart(name) {
    const workers = this.workers[name];
    const at = clock();
    const replies = await Promise.all(workers.map((worker) => worker.request('restart-module')));
    return {
      target: 'every module, on the same clients',
      at,
      backAt: Math.max(...replies.map(({ backAt }) => backAt)),
      recoveries: replies.map(({ backAt, kinds, closeMs, openMs }, i) => ({
        worker: workers[i].name,
        backAt,
        kinds,
        closeMs,
        openMs,
      })),
    };
  }
}

module.exports = { FaultInjector };
