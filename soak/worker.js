'use strict';
// A soak worker process (forked by run.js): a Nest application context importing the built RedisCacheModule on
// two clients the app created itself (`{ client }`), running its Traffic at a steady rate until told to stop.
// Every second it sends the runner its figures; on the runner's word it takes a baseline, probes a fault's
// recovery, restarts its module on the same clients, or drops one of its users' LRU.

require('reflect-metadata');
const { clearInterval, setImmediate, setInterval } = require('node:timers');
const { setTimeout: sleep } = require('node:timers/promises');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { Redis } = require('ioredis');
const {
  EmbeddingCacheService,
  MessageCacheService,
  RedisCacheModule,
  closeCacheClient,
  createCacheClient,
} = require('../libs/redis-cache/dist');
const { embeddingKeys } = require('../libs/redis-cache/dist/keys');
const { cacheOptions } = require('./cache-options');
const { traceCalls } = require('./call-outcomes');
const { clock } = require('./clock');
const { ProcessMetrics, listenerCounts } = require('./process-metrics');
const { RecoveryProbes } = require('./recovery-probes');
const { retried } = require('./retry');
const { Traffic } = require('./traffic');
const { WarningRates } = require('./warning-rates');
const { WorkerStats } = require('./worker-stats');

/** Calls in flight at once, at most; the rate is set by the pacing. */
const CONCURRENCY = 16;
/** After a pause drained the calls, how long before handles and listeners are counted. */
const QUIET_MS = 500;
/** How long a snapshot waits for every connection to be up. */
const CONNECTED_WITHIN_MS = 10_000;
/** After the traffic stops, how long the library gets to settle what failed, before the final counts. */
const SETTLE_MS = 2000;

class Worker {
  running = true;
  inFlight = 0;
  gate = undefined;
  nextAt = 0;
  stats = new WorkerStats();
  metrics = new ProcessMetrics();
  warnings = new WarningRates();

  constructor(config) {
    this.config = config;
    this.intervalMs = 1000 / config.rate;
  }

  async start() {
    traceCalls();
    const { endpoints } = this.config;
    const connection = (name) =>
      endpoints.kind === 'cluster' ? { cluster: { nodes: endpoints.nodes } } : { url: endpoints[name] };
    this.clients = { local: createCacheClient(connection('local')), shared: createCacheClient(connection('shared')) };
    this.app = await this.openModule();
    this.traffic = new Traffic({
      worker: this.config.worker,
      seed: this.config.seed,
      buckets: cacheOptions(this.config.topology).messages.buckets,
      services: () => this.services,
      stats: this.stats,
      masterOfSlot: endpoints.kind === 'cluster' ? (slot) => masterOf(endpoints.masters, slot) : undefined,
    });
    this.loops = Array.from({ length: CONCURRENCY }, () => this.loop());
    this.sampler = setInterval(() => this.sample(), 1000);
  }

  async openModule() {
    class SoakAppModule {}
    const options = { connections: { local: { client: this.clients.local }, shared: { client: this.clients.shared } } };
    Module({ imports: [RedisCacheModule.forRoot({ ...options, ...cacheOptions(this.config.topology) })] })(
      SoakAppModule,
    );
    const app = await NestFactory.createApplicationContext(SoakAppModule, { logger: this.warnings });
    this.services = { embeddings: app.get(EmbeddingCacheService), messages: app.get(MessageCacheService) };
    return app;
  }

  async loop() {
    while (this.running) {
      await this.pace();
      if (!this.running) return;
      await this.tracked(() => this.traffic.step());
    }
  }

  /** Runs `work` once no pause holds the traffic, counted in flight so that a pause can wait for it. */
  async tracked(work) {
    while (this.gate) await this.gate.promise;
    this.inFlight++;
    try {
      return await work();
    } finally {
      this.inFlight--;
    }
  }

  /** The next call's slot at the configured rate, shared by all loops. */
  async pace() {
    const now = clock();
    this.nextAt = Math.max(this.nextAt + this.intervalMs, now);
    if (this.nextAt > now) await sleep(this.nextAt - now);
  }

  /** Holds the traffic and the probes, and waits for the calls in flight to end. */
  async pause() {
    let release;
    const promise = new Promise((resolve) => (release = resolve));
    this.gate = { promise, release };
    while (this.inFlight > 0) await sleep(2);
  }

  resume() {
    const { gate } = this;
    this.gate = undefined;
    this.nextAt = clock();
    gate?.release();
  }

  sample() {
    send({ type: 'sample', t: clock(), ...this.stats.takeInterval(), ...this.metrics.sample() });
  }

  /** The counts that must stay flat, taken with no call in flight. */
  /**
   * The counts that must stay flat, taken with no call in flight and, like for like, with every connection up (a
   * reconnecting client holds fewer sockets and more timers), or after CONNECTED_WITHIN_MS, which it says.
   */
  async snapshot() {
    await sleep(QUIET_MS);
    const until = clock() + CONNECTED_WITHIN_MS;
    while (!this.connected() && clock() < until) await sleep(50);
    await collectGarbage();
    return {
      connected: this.connected(),
      resources: this.metrics.resources(),
      listeners: listenerCounts(this.clients),
      rssMb: process.memoryUsage().rss / 2 ** 20,
      heapUsedMb: process.memoryUsage().heapUsed / 2 ** 20,
    };
  }

  /** Whether both clients, and on a cluster each of their node connections, are ready. */
  connected() {
    return Object.values(this.clients).every(
      (client) =>
        client.status === 'ready' &&
        (typeof client.nodes !== 'function' || client.nodes().every((node) => node.status === 'ready')),
    );
  }

  async baseline() {
    await this.pause();
    const snapshot = await this.snapshot();
    this.resume();
    return snapshot;
  }

  /** Probes the kinds of calls `scope` touches from now on; the fault is being done. */
  probe(scope) {
    return new RecoveryProbes(this.traffic, scope, (work) => this.tracked(work));
  }

  async restartModule() {
    await this.pause();
    const closing = clock();
    await this.app.close();
    const opening = clock();
    this.app = await this.openModule();
    const backAt = clock();
    this.traffic.messages.model.moduleRestarted();
    const probes = this.probe({ all: true });
    probes.back(backAt);
    this.resume();
    return { backAt, closeMs: opening - closing, openMs: backAt - opening, kinds: await probes.results() };
  }

  /** Deletes the LRU of one of its hot users, while holding that user, so that the model knows when. */
  async dropUserLru(round) {
    const user = this.traffic.users.filter((candidate) => candidate.hot)[round % 10];
    const probes = this.probe({ user: user.index });
    const key = embeddingKeys(user.id).lru;
    const model = this.traffic.embeddings.model;
    const backAt = await this.traffic.holding(`u${user.index}`, async () => {
      model.losingLru(user.index);
      const sent = await this.deleteOnLocal(key, user.master);
      model.lruLostAt(user.index, clock());
      return sent;
    });
    probes.back(backAt);
    return { backAt, key, kinds: await probes.results() };
  }

  /**
   * DEL of `key` on the local Redis (on a cluster, on `master`) through a connection of its own, closed after, so
   * that it leaves no handle behind; resolves with when the DEL was sent.
   */
  async deleteOnLocal(key, master) {
    const { endpoints } = this.config;
    const admin =
      endpoints.kind === 'cluster'
        ? new Redis({ host: '127.0.0.1', port: endpoints.masters[master].port, lazyConnect: true })
        : new Redis(endpoints.local, { lazyConnect: true });
    admin.on('error', () => undefined);
    try {
      await admin.connect();
      let sent;
      await retried(() => {
        sent = clock();
        return admin.del(key);
      });
      return sent;
    } finally {
      admin.disconnect();
    }
  }

  async stop() {
    this.running = false;
    clearInterval(this.sampler);
    this.sample();
    await Promise.all(this.loops);
    await sleep(SETTLE_MS);
    await this.pause();
    const final = await this.snapshot();
    const summary = {
      final,
      operations: this.stats.operations,
      wrong: this.stats.wrong,
      rejected: this.stats.rejected,
      judged: this.stats.reads.judged,
      staleServed: this.traffic.messages.model.staleServed,
      unjudged: this.traffic.messages.model.unjudged,
      warnings: this.warnings.summary(),
      library: { embeddings: this.services.embeddings.stats(), messages: this.services.messages.stats() },
    };
    await this.app.close();
    await Promise.all(Object.values(this.clients).map((client) => closeCacheClient(client)));
    this.metrics.stop();
    return summary;
  }
}

/**
 * Full collections, so that the RSS compared is the live set's and not the garbage V8 happened to keep: V8 lets old
 * garbage pile up for a while after a burst of promotions (each fault makes one), which looks like growth.
 */
async function collectGarbage() {
  for (let i = 0; i < 3; i++) {
    global.gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function masterOf(masters, slot) {
  return masters.find(({ ranges }) => ranges.some(([from, to]) => slot >= from && slot <= to))?.index;
}

function send(message) {
  if (process.connected) process.send(message);
}

let worker;
let probes;

const handlers = {
  async start({ config }) {
    worker = new Worker(config);
    await worker.start();
    return {};
  },
  baseline: () => worker.baseline(),
  async 'fault-start'({ scope, losingBucketLru }) {
    if (losingBucketLru !== undefined) worker.traffic.messages.model.losingLru(losingBucketLru);
    if (scope.canaryFirst) await worker.pause();
    probes = worker.probe(scope);
    return {};
  },
  async 'fault-back'({ scope, backAt, lostAt, losingBucketLru }) {
    if (losingBucketLru !== undefined) worker.traffic.messages.model.lruLostAt(losingBucketLru, lostAt);
    if (scope.canaryFirst) {
      await worker.traffic.embeddings.readExpired([worker.traffic.canary], true);
      worker.resume();
    }
    probes.back(backAt);
    return { kinds: await probes.results() };
  },
  'restart-module': () => worker.restartModule(),
  'drop-user-lru': ({ round }) => worker.dropUserLru(round),
  stop: () => worker.stop(),
};

process.on('message', async (message) => {
  try {
    const reply = await handlers[message.type](message);
    send({ type: 'reply', id: message.id, ...reply });
    if (message.type === 'stop') process.disconnect();
  } catch (error) {
    send({ type: 'reply', id: message.id, error: error?.stack ?? String(error) });
  }
});
// the runner is gone: nothing is left to report to
process.on('disconnect', () => process.exit(0));
