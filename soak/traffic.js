'use strict';
// One worker's traffic: its own users and conversations (hot ones most of the time, cold ones now and then), a
// random mix of every call of both caches, and the probes that time a fault's recovery. Calls on one user or
// one conversation never overlap, but in the scenarios that race them on purpose, so that the models stay exact.

const { setTimeout: sleep } = require('node:timers/promises');
const keySlot = require('cluster-key-slot');
const { seeded } = require('../bench/lib/seeded');
const { conversationBucket, conversationKeys, embeddingKeys } = require('../libs/redis-cache/dist/keys');
const { withOutcome } = require('./call-outcomes');
const { clock } = require('./clock');
const { EmbeddingTraffic } = require('./embedding-traffic');
const { MessageTraffic } = require('./message-traffic');

const USERS = 120;
const HOT_USERS = 40;
const CONVERSATIONS = 150;
const HOT_CONVERSATIONS = 50;
/** The share of calls on hot users and conversations. */
const HOT_SHARE = 0.8;

/** The call kinds whose recovery a fault's probes time, and what each probe calls (see also `probe`). */
const PROBES = {
  'embedding read': (traffic, key) => traffic.embeddings.getOne(key, true),
  'embedding write': (traffic, key) => traffic.embeddings.putOne(key, true),
  'message read': (traffic, key) => traffic.messages.read(key, true),
  'message write': (traffic, key) => traffic.messages.append(key, true),
};
const EMBEDDING_KINDS = ['embedding read', 'embedding write'];
const MESSAGE_KINDS = ['message read', 'message write'];

class Traffic {
  /**
   * `services()` gives the module's services now (a module restart replaces them); `buckets` is the topology's
   * message bucket count, `masterOfSlot` maps a slot to its master on a cluster (undefined on single nodes).
   */
  constructor({ worker, seed, buckets, services, stats, masterOfSlot }) {
    this.worker = worker;
    this.random = seeded(seed);
    this.services = services;
    this.stats = stats;
    this.busy = new Set();
    const user = (index, id) => ({ index, id, hot: index < HOT_USERS, slot: keySlot(embeddingKeys(id).vectors) });
    const users = Array.from({ length: USERS }, (_, index) => user(index, `w${worker}-u${index}`));
    // a cold user of its own, left alone but by the probes (EmbeddingTraffic.readExpired)
    const canary = { ...user(USERS, `w${worker}-canary`), canary: true };
    const conversations = Array.from({ length: CONVERSATIONS }, (_, index) => {
      const id = `w${worker}-c${index}`;
      const bucket = conversationBucket(id, buckets);
      return {
        index,
        id,
        bucket,
        hot: index < HOT_CONVERSATIONS,
        slot: keySlot(conversationKeys(id, bucket).messages),
      };
    });
    for (const key of [...users, canary, ...conversations]) key.master = masterOfSlot?.(key.slot);
    this.users = users;
    this.canary = canary;
    this.conversations = conversations;
    this.embeddings = new EmbeddingTraffic(this, [...users, canary]);
    this.messages = new MessageTraffic(this, conversations);
  }

  int(low, high) {
    return low + Math.floor(this.random() * (high - low + 1));
  }

  pick(list) {
    return list[Math.floor(this.random() * list.length)];
  }

  /** A picker of one of `pairs` ([weight, choice]), each as often as its weight. */
  weighted(pairs) {
    const choices = pairs.flatMap(([weight, choice]) => Array.from({ length: weight }, () => choice));
    return () => choices[Math.floor(this.random() * choices.length)];
  }

  /** `count` distinct numbers below `size`. */
  distinct(count, size) {
    const chosen = new Set();
    while (chosen.size < Math.min(count, size)) chosen.add(Math.floor(this.random() * size));
    return [...chosen];
  }

  /** One call (or one racing scenario) of the mix, on a key no other call holds; none if the picks were busy. */
  async step() {
    await this.embeddings.keepCanary();
    const embedding = this.random() < 0.5;
    const keys = embedding ? this.users : this.conversations;
    const hot = keys.filter((key) => key.hot);
    const cold = keys.filter((key) => !key.hot);
    for (let attempt = 0; attempt < 3; attempt++) {
      const key = this.pick(this.random() < HOT_SHARE ? hot : cold);
      const lockName = `${embedding ? 'u' : 'c'}${key.index}`;
      if (this.busy.has(lockName)) continue;
      this.busy.add(lockName);
      try {
        await (embedding ? this.embeddings.step(key) : this.messages.step(key));
      } finally {
        this.busy.delete(lockName);
      }
      return;
    }
  }

  /**
   * Runs one cache call, timed and with the library's own outcome. Resolves with the call's record, `value` and
   * `results` (its span's and the nested spans') included, or null if it rejected, which no call should. A
   * `probe`'s call is left out of the traffic's latencies and rates.
   */
  async call(kind, name, invoke, probe = false) {
    const start = clock();
    let traced;
    try {
      traced = await withOutcome(invoke);
    } catch (error) {
      this.stats.rejection(name, error);
      return null;
    }
    const call = { kind, name, start, end: clock(), value: traced.value, results: traced.results };
    call.outcome = traced.results[0] ?? 'untraced';
    this.stats.call(call, probe);
    return call;
  }

  /** Hands a served value's judgement to the stats. */
  judged(wrong) {
    this.stats.judged(wrong);
  }

  /** The kinds a fault's `scope` touches, and the keys a probe of each kind may call on. */
  probeTargets(scope) {
    const inScope = (key, kindOfKey) => {
      if (scope.master !== undefined) return key.master === scope.master;
      if (scope.bucket !== undefined) return kindOfKey === 'conversation' && key.bucket === scope.bucket;
      if (scope.user !== undefined) return kindOfKey === 'user' && key.index === scope.user;
      if (scope.connection === 'local') return kindOfKey === 'user';
      if (scope.connection === 'shared') return kindOfKey === 'conversation';
      return true;
    };
    const users = [...this.users, this.canary].filter((key) => inScope(key, 'user'));
    const conversations = this.conversations.filter((key) => inScope(key, 'conversation'));
    return [
      ...(users.length > 0 ? EMBEDDING_KINDS.map((kind) => [kind, users]) : []),
      ...(conversations.length > 0 ? MESSAGE_KINDS.map((kind) => [kind, conversations]) : []),
    ];
  }

  /**
   * One probe call of `kind` on one of `keys`, waiting for it to be free; its record, or null if it rejected.
   * `afterBack`: Redis is back from the fault.
   */
  probe(kind, keys, afterBack) {
    // once Redis is back, an embedding read is a batch read of expired entries if there are some: right after a
    // SCRIPT FLUSH, it may be the first touch script on its connection, which ioredis sends again as EVAL after the
    // NOSCRIPT, once the HMGET sent with it has run (case 9)
    if (kind === 'embedding read' && afterBack) return this.embeddings.readExpired(keys, true);
    const key = this.pick(keys.filter((candidate) => !candidate.canary));
    return this.holding(`${kind.startsWith('embedding') ? 'u' : 'c'}${key.index}`, () => PROBES[kind](this, key));
  }

  /** Waits for a user's (`u<index>`) or a conversation's (`c<index>`) lock to be free, then holds it during `work`. */
  async holding(lockName, work) {
    while (this.busy.has(lockName)) await sleep(1);
    this.busy.add(lockName);
    try {
      return await work();
    } finally {
      this.busy.delete(lockName);
    }
  }
}

module.exports = { Traffic };
