'use strict';
// The embedding cache's calls, each judged against the EmbeddingModel: reads one by one and in batches, writes,
// getOrComputeEmbeddings, clearUser, and two races run on purpose: a clearUser while a computation is under way
// (it must fence it: issue 24, case 8), and two callers computing the same texts at once (one computation, but
// each caller its own arrays).
//
// Hot users' entries live the cache's TTL. Cold users are read seldom, and their even texts are written with a
// short TTL of their own, their odd ones with the cache's, which keeps their keys alive: so that when next read,
// many of their entries are expired and not yet purged. A batch read runs the touch script (which purges them)
// and then a native HMGET; after a SCRIPT FLUSH, the HMGET runs first (issue 24, case 9).

const { setTimeout: sleep } = require('node:timers/promises');
const { clock } = require('./clock');
const { COLD_ENTRY_TTL_SECONDS, EMBEDDINGS } = require('./cache-options');
const { EmbeddingModel } = require('./embedding-model');
const { readVector, vectorFor } = require('./payloads');

const TEXTS = 24;
const COMPUTE_MS = 20;
/** How often the canary is written again when no probe read it. */
const CANARY_EVERY_MS = 20_000;
const CANARY_RETRY_MS = 1000;

const textOf = (t) => `text ${t}: ünïcödé`;
/** Whether (user, text) is written with the short TTL of its own. */
const shortLived = (user, text) => !user.hot && text % 2 === 0;
const textIndex = new Map(Array.from({ length: TEXTS }, (_, t) => [textOf(t), t]));

class EmbeddingTraffic {
  /** `users`: the worker's, the canary last. */
  constructor(traffic, users) {
    this.t = traffic;
    this.canaryDueAt = 0;
    this.model = new EmbeddingModel({
      worker: traffic.worker,
      users: users.length,
      texts: TEXTS,
      ttlMsOf: (user, text) => (shortLived(users[user], text) ? COLD_ENTRY_TTL_SECONDS : EMBEDDINGS.ttlSeconds) * 1000,
      moduleTtlMs: EMBEDDINGS.ttlSeconds * 1000,
    });
    const hot = [
      [24, this.getOne],
      [18, this.getMany],
      [10, this.putOne],
      [6, this.putMany],
      [30, this.compute],
      [2, this.clear],
      [2, this.computeDuringClear],
      [2, this.computeTwice],
    ];
    // cold users never compute: their entries keep their own TTL
    const cold = [
      [30, this.getOne],
      [40, this.getMany],
      [20, this.putOne],
      [10, this.putMany],
    ];
    this.mix = { hot: traffic.weighted(hot), cold: traffic.weighted(cold) };
  }

  get service() {
    return this.t.services().embeddings;
  }

  step(user) {
    return (user.hot ? this.mix.hot : this.mix.cold)().call(this, user);
  }

  /** The options of a write of `text` (of texts all short-lived, or none). */
  writeOptions(user, text) {
    return shortLived(user, text) ? { ttlSeconds: COLD_ENTRY_TTL_SECONDS } : undefined;
  }

  entry(user, text, version) {
    return { text: textOf(text), embedding: vectorFor(this.t.worker, user.index, text, version) };
  }

  /** Judges a read's served vectors and applies it to the model; a fallback serves none and may refresh any. */
  served(user, texts, vectors, call) {
    if (call.outcome === 'fallback' || call.outcome === 'untraced') {
      for (const text of texts) this.model.entries[user.index][text].recency.mayRefresh();
      return;
    }
    texts.forEach((text, i) => {
      if (vectors[i]) this.t.judged(this.model.judge(user.index, text, vectors[i], call));
    });
    this.model.read(user.index, texts, call);
  }

  async getOne(user, probe = false) {
    const text = this.t.int(0, TEXTS - 1);
    const call = await this.t.call(
      'embedding read',
      'getCachedEmbedding',
      () => this.service.getCachedEmbedding(user.id, textOf(text)),
      probe,
    );
    if (call) this.served(user, [text], [call.value], call);
    return call;
  }

  /** A batch read of `texts`, or of 2 to 6 texts at random. */
  async getMany(user, probe = false, texts = this.t.distinct(this.t.int(2, 6), TEXTS)) {
    const call = await this.t.call(
      'embedding read',
      'getCachedEmbeddings',
      () => this.service.getCachedEmbeddings(user.id, texts.map(textOf)),
      probe,
    );
    if (call) this.served(user, texts, call.value, call);
    return call;
  }

  /**
   * A batch read of the canary's expired entries and a live one, if the canary is among `users` and its entries
   * have expired since it was written; else a read of one of the others, if any (null if none). The canary is written (`keepCanary`) and left
   * alone, so that its short-lived entries are expired and not yet purged: right after a SCRIPT FLUSH, the HMGET of
   * a batch read runs before its touch script has purged them (case 9). It is written again after each such read.
   */
  readExpired(users, probe = false) {
    const canary = users.find((user) => user.canary);
    const expired = canary ? this.model.expiredTexts(canary.index, clock()) : [];
    if (expired.length === 0) {
      const others = users.filter((candidate) => !candidate.canary);
      if (others.length === 0) return null;
      const user = this.t.pick(others);
      return this.t.holding(`u${user.index}`, () => this.getOne(user, probe));
    }
    this.canaryDueAt = 0;
    return this.t.holding(`u${canary.index}`, () => this.getMany(canary, probe, [...expired, 1]));
  }

  /** Writes the canary's entries again when due: two short-lived and two that keep its keys alive. */
  async keepCanary() {
    if (clock() < this.canaryDueAt) return;
    this.canaryDueAt = Infinity;
    const { canary } = this.t;
    const written = await this.t.holding(`u${canary.index}`, async () => {
      const calls = [await this.write(canary, [0, 2]), await this.write(canary, [1, 3])];
      return calls.every((call) => call?.outcome === 'ok');
    });
    // until both writes went through, the model cannot know its entries' age: again soon
    this.canaryDueAt = clock() + (written ? CANARY_EVERY_MS : CANARY_RETRY_MS);
  }

  async putOne(user, probe = false) {
    const text = this.t.int(0, TEXTS - 1);
    const version = this.model.version();
    const { embedding } = this.entry(user, text, version);
    const call = await this.t.call(
      'embedding write',
      'cacheEmbedding',
      () => this.service.cacheEmbedding(user.id, textOf(text), embedding, this.writeOptions(user, text)),
      probe,
    );
    if (call) this.model.wrote(user.index, [text], [version], call);
    return call;
  }

  putMany(user) {
    // one write gives all its entries one TTL: texts of one parity
    const parity = this.t.int(0, 1);
    return this.write(
      user,
      this.t.distinct(this.t.int(2, 4), TEXTS / 2).map((half) => 2 * half + parity),
    );
  }

  /** cacheEmbeddings of new versions of `texts`, all of one parity (one TTL). */
  async write(user, texts) {
    const versions = texts.map(() => this.model.version());
    const entries = texts.map((text, i) => this.entry(user, text, versions[i]));
    const call = await this.t.call('embedding write', 'cacheEmbeddings', () =>
      this.service.cacheEmbeddings(user.id, entries, this.writeOptions(user, texts[0])),
    );
    if (call) this.model.wrote(user.index, texts, versions, call);
    return call;
  }

  async clear(user) {
    const call = await this.t.call('embedding write', 'clearUser', () => this.service.clearUser(user.id));
    if (call) this.model.cleared(user.index, call);
  }

  /** A compute function that records what it computed (text -> version) and when it began, and takes `ms`. */
  computation(user, ms = 0) {
    const computation = { computed: new Map(), startedAt: undefined };
    computation.compute = async (missing) => {
      computation.startedAt ??= clock();
      if (ms > 0) await sleep(ms);
      return missing.map((text) => {
        const index = textIndex.get(text);
        const version = this.model.version();
        computation.computed.set(index, version);
        return vectorFor(this.t.worker, user.index, index, version);
      });
    };
    return computation;
  }

  getOrCompute(user, texts, computation) {
    return this.t.call('embedding read', 'getOrComputeEmbeddings', () =>
      this.service.getOrComputeEmbeddings(user.id, texts.map(textOf), computation.compute),
    );
  }

  /**
   * Judges what getOrComputeEmbeddings returned: a vector of one of `computations` (that caller's or one it
   * joined) for each text they computed, what the cache served for the others.
   */
  judgeComputed(user, texts, call, computations) {
    const served = [];
    const vectors = [];
    texts.forEach((text, i) => {
      const vector = call.value[i];
      const found = readVector(vector);
      const computedHere = computations.some(({ computed }) => computed.get(text) === found.version);
      if (!computedHere) {
        served.push(text);
        vectors.push(vector);
      } else if (!found.intact || found.user !== user.index || found.text !== text) {
        this.t.judged({ user: user.index, text, op: call.name, at: call.start, reason: 'not the computed vector' });
      }
    });
    this.served(user, served, vectors, { ...call, outcome: call.outcome === 'untraced' ? 'fallback' : call.outcome });
  }

  /** The model after a computation's write, which went through if its own span says `ok`. */
  computedWrite(user, call, computation) {
    const texts = [...computation.computed.keys()];
    if (texts.length === 0) return;
    const versions = texts.map((text) => computation.computed.get(text));
    this.model.wrote(user.index, texts, versions, call, call.results[1] === 'ok');
  }

  async compute(user) {
    const texts = this.t.distinct(this.t.int(1, 5), TEXTS);
    const computation = this.computation(user);
    const call = await this.getOrCompute(user, texts, computation);
    if (!call) return;
    this.judgeComputed(user, texts, call, [computation]);
    this.computedWrite(user, call, computation);
  }

  /** clearUser while a computation runs: what it computed must not be served after the clear (case 8). */
  async computeDuringClear(user) {
    const texts = this.t.distinct(this.t.int(2, 4), TEXTS);
    const computation = this.computation(user, COMPUTE_MS);
    const computing = this.getOrCompute(user, texts, computation);
    await sleep(COMPUTE_MS / 2);
    const clear = await this.t.call('embedding write', 'clearUser', () => this.service.clearUser(user.id));
    const call = await computing;
    if (call) this.judgeComputed(user, texts, call, [computation]);
    if (!clear) return;
    const computed = [...computation.computed];
    if (computation.startedAt !== undefined && computation.startedAt < clear.start) {
      this.model.cleared(user.index, clear, computed);
    } else {
      this.model.cleared(user.index, clear);
      if (call)
        this.model.wrote(
          user.index,
          computed.map(([text]) => text),
          computed.map(([, v]) => v),
          call,
          false,
        );
    }
  }

  /** Two callers compute the same texts at once: one computation, but each caller gets its own arrays. */
  async computeTwice(user) {
    const texts = this.t.distinct(this.t.int(1, 4), TEXTS);
    const computations = [this.computation(user, COMPUTE_MS / 2), this.computation(user, COMPUTE_MS / 2)];
    const calls = await Promise.all(computations.map((computation) => this.getOrCompute(user, texts, computation)));
    calls.forEach((call) => call && this.judgeComputed(user, texts, call, computations));
    const [first, second] = calls;
    if (first && second) {
      texts.forEach((text, i) => {
        const shared = first.value[i] === second.value[i];
        if (shared) {
          this.t.judged({
            user: user.index,
            text,
            op: first.name,
            at: first.start,
            reason: 'one array given to two callers',
          });
        }
      });
    }
    calls.forEach((call, i) => call && this.computedWrite(user, call, computations[i]));
  }
}

module.exports = { EmbeddingTraffic };
