'use strict';
// What one worker's users may have cached, entry by entry, so that every vector a read serves can be judged. A
// worker's calls on one user never overlap (but in the scenarios that race them on purpose), and no other worker
// touches its users, so the model is exact: for each entry, the versions a read may serve.
//
// - A write that went through (`ok`) leaves its version alone; one that gave its fallback may have run, or may
//   still run, so it adds its version to those possible.
// - A clearUser that went through leaves nothing; one that fell back changes nothing.
// - A computation that began before a clearUser that went through is fenced: its vectors must never be served
//   after that clear (issue 24, case 8), whenever its write landed.
// - A served vector must also not be older than the entry's TTL (Recency), cold users' own TTL included.
// A miss is never wrong: eviction, expiry, a lost key or a restarted server may drop anything at any time.

const { Recency } = require('./recency');
const { readVector } = require('./payloads');

class EmbeddingModel {
  /**
   * `users` and `texts`: how many of each the worker has; `ttlMsOf(user, text)` the TTL an entry is always
   * written with, and `moduleTtlMs` the cache's, which an entry may fall back to after a loss of its user's LRU.
   */
  constructor({ worker, users, texts, ttlMsOf, moduleTtlMs }) {
    this.worker = worker;
    this.ttlMsOf = ttlMsOf;
    this.moduleTtlMs = moduleTtlMs;
    this.entries = Array.from({ length: users }, () =>
      Array.from({ length: texts }, () => ({
        possible: new Set(),
        fenced: new Set(),
        written: -1,
        recency: new Recency(),
        ttlUnsure: false,
      })),
    );
    this.nextVersion = 1;
  }

  version() {
    return this.nextVersion++;
  }

  /** The wrong read a vector served for (user, text) by `call` is, or null; judged before the read's own effect. */
  judge(user, text, vector, call) {
    const found = readVector(vector);
    const base = { user, text, version: found.version, op: call.name, at: call.start };
    if (!found.intact) return { ...base, reason: 'a damaged vector' };
    if (found.worker !== this.worker || found.user !== user || found.text !== text) {
      return { ...base, reason: "another entry's vector", of: [found.worker, found.user, found.text] };
    }
    const entry = this.entries[user][text];
    if (!entry.possible.has(found.version)) {
      if (entry.fenced.has(found.version)) return { ...base, reason: 'a vector computed before clearUser, after it' };
      if (found.version <= entry.written) return { ...base, reason: 'an overwritten version' };
      return { ...base, reason: 'a version never written' };
    }
    const own = this.ttlMsOf(user, text);
    const ttlMs = entry.ttlUnsure ? Math.max(own, this.moduleTtlMs) : own;
    if (entry.recency.expiredBy(call.start, ttlMs)) {
      return { ...base, reason: 'an expired entry', idleMs: Math.round(call.start - entry.recency.last) };
    }
    return null;
  }

  /** The texts of `user` whose entries may be cached and have certainly expired by `now`. */
  expiredTexts(user, now) {
    const texts = [];
    this.entries[user].forEach((entry, text) => {
      if (entry.possible.size > 0 && !entry.ttlUnsure && entry.recency.expiredBy(now, this.ttlMsOf(user, text))) {
        texts.push(text);
      }
    });
    return texts;
  }

  /**
   * A read of `texts` that Redis answered. A hit refreshed its entry; a miss found it gone, so whatever a later
   * read serves was written since, and is as old as that write: both count as a refresh.
   */
  read(user, texts, call) {
    this.answered(user, call);
    for (const text of texts) this.entries[user][text].recency.refreshed(call);
  }

  /** Versions written to `texts` of `user` by `call`, whose outcome says whether they certainly landed. */
  wrote(user, texts, versions, call, landed = call.outcome === 'ok') {
    if (landed) this.answered(user, call);
    texts.forEach((text, i) => {
      const entry = this.entries[user][text];
      entry.written = Math.max(entry.written, versions[i]);
      if (landed) {
        entry.possible = new Set([versions[i]]);
        // a fenced version served from now on is an overwritten one: no need to remember it
        entry.fenced.clear();
        entry.recency.refreshed(call);
        entry.ttlUnsure = false;
      } else {
        entry.possible.add(versions[i]);
        entry.recency.mayRefresh();
      }
    });
  }

  /**
   * A clearUser by `call`; `fenced` lists the [text, version] pairs of computations in flight when it began:
   * gone for good if it went through, possible if not.
   */
  cleared(user, call, fenced = []) {
    if (call.outcome !== 'ok') {
      for (const [text, version] of fenced) this.wrote(user, [text], [version], call, false);
      return;
    }
    this.answered(user, call);
    for (const entry of this.entries[user]) entry.possible = new Set();
    for (const [text, version] of fenced) {
      const entry = this.entries[user][text];
      entry.fenced.add(version);
      entry.written = Math.max(entry.written, version);
    }
  }

  /** A call on the user's slot was answered: calls of theirs that fell back before it ran before it, or never. */
  answered(user, call) {
    for (const entry of this.entries[user]) entry.recency.answered(call);
  }

  /** The user's LRU is about to be deleted (a fault); `lruLostAt` says when it was. */
  losingLru(user) {
    for (const entry of this.entries[user]) {
      entry.recency.losing();
      // a hit slides a deadline by the cache's TTL once the LRU score it is measured from is gone
      entry.ttlUnsure = true;
    }
  }

  lruLostAt(user, time) {
    for (const entry of this.entries[user]) entry.recency.lostAt(time);
  }
}

module.exports = { EmbeddingModel };
