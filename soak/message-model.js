'use strict';
// One worker's conversations: its database (the system of record, in memory), and what the cache may hold of
// each, so that every conversation a read serves can be judged against the write-through contract
// (docs/write-through.md). A worker's calls on one conversation never overlap (but in the scenario that races
// loads on purpose), and no other worker touches its conversations, so the model is exact.
//
// - The process that wrote serves the database's conversation or nothing: after a write that failed on Redis, the
//   cache serves that conversation as a miss until it is cleared. So a served conversation must be the database's
//   (its last `last` messages for a read of the last ones).
// - The documented limit: a module closed before it settled leaves a stale copy that the next module does not
//   know of. For a conversation written through a closed module, a read may also serve any state the cache may
//   hold (`states`: the fills and appends that may have landed); those reads are counted, not wrong.
// - A served conversation must not be older than its TTL (Recency).
// A miss is never wrong.

const { Recency } = require('./recency');
const { messageSeq } = require('./payloads');

/** Past this many possible states, a conversation's stale reads are no longer judged (it is counted). */
const MAX_STATES = 16;

const key = (seqs) => seqs.join(',');

class MessageModel {
  constructor({ ttlMs, conversations }) {
    this.ttlMs = ttlMs;
    this.conversations = conversations.map(({ id, bucket, messages }) => ({
      id,
      bucket,
      db: Array.from({ length: messages }, (_, i) => i + 1),
      nextSeq: messages + 1,
      /** What the cache may hold, by key; null once there are too many to follow. */
      states: new Map(),
      /** A write failed on Redis through this module, and it may not have been cleared yet. */
      unsettled: false,
      /** Written through a module closed while unsettled: a stale copy may be served. */
      staleRisk: false,
      recency: new Recency(),
    }));
    this.staleServed = 0;
    this.unjudged = 0;
  }

  /** New messages' sequence numbers for conversation `c`. */
  nextSeqs(c, count) {
    const conversation = this.conversations[c];
    return Array.from({ length: count }, () => conversation.nextSeq++);
  }

  /**
   * The wrong read `messages` (as served by `call`, the last `last` when > 0) are, or null; judged before the
   * read's own effect. A stale copy that the documented limit allows is counted in `staleServed`.
   */
  judge(c, messages, last, call) {
    const conversation = this.conversations[c];
    const base = { conversation: conversation.id, op: call.name, at: call.start };
    if (!Array.isArray(messages)) return { ...base, reason: 'not an array' };
    const seqs = messages.map((message) => messageSeq(conversation.id, message));
    if (seqs.includes(null)) return { ...base, reason: 'a damaged or foreign message' };
    const expected = last > 0 ? conversation.db.slice(-last) : conversation.db;
    if (key(seqs) !== key(expected)) {
      if (!conversation.staleRisk)
        return { ...base, reason: staleness(seqs, expected, conversation.db), seqs, expected };
      if (conversation.states === null) this.unjudged++;
      else if (
        ![...conversation.states.values()].some((state) => key(last > 0 ? state.slice(-last) : state) === key(seqs))
      ) {
        return { ...base, reason: 'a state never written', seqs, expected };
      } else this.staleServed++;
    }
    if (conversation.recency.expiredBy(call.start, this.ttlMs)) {
      return { ...base, reason: 'an expired conversation', idleMs: Math.round(call.start - conversation.recency.last) };
    }
    return null;
  }

  /** A load's result (the loader ran): the database's conversation, or a wrong read. */
  judgeLoaded(c, messages, call) {
    const conversation = this.conversations[c];
    const seqs = Array.isArray(messages) ? messages.map((message) => messageSeq(conversation.id, message)) : [];
    if (Array.isArray(messages) && key(seqs) === key(conversation.db)) return null;
    return { conversation: conversation.id, op: call.name, at: call.start, reason: 'not what the loader returned' };
  }

  /** A read Redis answered: a hit refreshed the conversation, and a miss found it gone (see EmbeddingModel.read). */
  read(c, call) {
    this.conversations[c].recency.refreshed(call);
  }

  /** A getOrLoadMessages whose loader ran: its fill (under the lease) may have cached the database's conversation. */
  loaded(c, call) {
    const conversation = this.conversations[c];
    this.add(conversation, conversation.db);
    if (call.outcome === 'fallback') conversation.recency.mayRefresh();
    else conversation.recency.refreshed(call);
  }

  /** cacheMessages of the database's conversation. */
  filled(c, call) {
    const conversation = this.conversations[c];
    if (call.outcome === 'ok') {
      conversation.states = new Map([[key(conversation.db), conversation.db]]);
      conversation.unsettled = false;
      conversation.staleRisk = false;
      conversation.recency.refreshed(call);
    } else if (call.outcome === 'fallback') {
      this.add(conversation, conversation.db);
      conversation.unsettled = true;
      conversation.recency.mayRefresh();
    } else conversation.recency.answered(call);
  }

  /** `seqs` were added to the database's conversation, then appended. */
  appended(c, seqs, call) {
    const conversation = this.conversations[c];
    conversation.db = [...conversation.db, ...seqs];
    const grown = conversation.states && [...conversation.states.values()].map((state) => [...state, ...seqs]);
    if (call.outcome === 'ok') {
      conversation.states = grown && new Map(grown.map((state) => [key(state), state]));
      conversation.recency.refreshed(call);
    } else if (call.outcome === 'fallback') {
      for (const state of grown ?? []) this.add(conversation, state);
      conversation.unsettled = true;
      conversation.recency.mayRefresh();
    } else conversation.recency.answered(call);
  }

  /** The database's conversation lost its last `count` messages (an edit); a clearConversation follows. */
  truncated(c, count) {
    const conversation = this.conversations[c];
    conversation.db = conversation.db.slice(0, Math.max(0, conversation.db.length - count));
  }

  /** The database's conversation was replaced by new messages; a cacheMessages follows. */
  replaced(c, seqs) {
    this.conversations[c].db = seqs;
  }

  cleared(c, call) {
    const conversation = this.conversations[c];
    if (call.outcome === 'ok') {
      conversation.states = new Map();
      conversation.unsettled = false;
      conversation.staleRisk = false;
      conversation.recency.answered(call);
    } else conversation.unsettled = true;
  }

  /** The module was closed and created again: what the closed one had not settled, the new one does not know of. */
  moduleRestarted() {
    for (const conversation of this.conversations) {
      if (conversation.unsettled) conversation.staleRisk = true;
      conversation.unsettled = false;
    }
  }

  /** Bucket `bucket` is about to lose its LRU (a fault); `lruLostAt` says when it did. */
  losingLru(bucket) {
    for (const conversation of this.conversations) if (conversation.bucket === bucket) conversation.recency.losing();
  }

  lruLostAt(bucket, time) {
    for (const conversation of this.conversations) {
      if (conversation.bucket === bucket) conversation.recency.lostAt(time);
    }
  }

  add(conversation, seqs) {
    if (conversation.states === null) return;
    conversation.states.set(key(seqs), seqs);
    if (conversation.states.size > MAX_STATES) conversation.states = null;
  }
}

/** What is wrong with a served conversation that is not the database's. */
function staleness(seqs, expected, db) {
  if (seqs.length < expected.length && key(seqs) === key(expected.slice(0, seqs.length))) {
    return 'a conversation missing its newest messages';
  }
  if (seqs.some((seq) => !db.includes(seq))) return 'a conversation with messages edited out since';
  if (seqs.length < expected.length) return 'a conversation missing messages';
  return 'a conversation in the wrong order or with duplicates';
}

module.exports = { MessageModel };
