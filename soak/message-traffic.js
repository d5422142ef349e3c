'use strict';
// The message cache's calls, as an app that writes through makes them (docs/write-through.md), each judged
// against the MessageModel: reads (whole, the last few, as JSON text), getOrLoadMessages with the database as
// loader, appends after each database insert, edits (database, then clearConversation), whole conversations
// replaced (database, then cacheMessages), and one race run on purpose: three callers loading the same
// conversation at once, which share one load but must each get their own array (issue 24, case 6).

const { setTimeout: sleep } = require('node:timers/promises');
const { MessageModel } = require('./message-model');
const { MESSAGES_TTL_SECONDS } = require('./cache-options');
const { messageFor } = require('./payloads');

/** Past this many messages, a conversation is edited instead of appended to, so that none outgrows its bucket. */
const MAX_MESSAGES = 60;
const LOAD_MS = 10;

class MessageTraffic {
  constructor(traffic, conversations) {
    this.t = traffic;
    this.conversations = conversations;
    this.model = new MessageModel({
      ttlMs: MESSAGES_TTL_SECONDS * 1000,
      conversations: conversations.map(({ id, bucket }) => ({ id, bucket, messages: traffic.int(0, 20) })),
    });
    this.mix = traffic.weighted([
      [22, this.read],
      [5, this.readJson],
      [30, this.load],
      [25, this.append],
      [4, this.edit],
      [2, this.replace],
      [5, this.fill],
      [3, this.loadThrice],
    ]);
  }

  get service() {
    return this.t.services().messages;
  }

  step(conversation) {
    return this.mix().call(this, conversation);
  }

  messagesOf(seqs, conversation) {
    return seqs.map((seq) => messageFor(conversation.id, seq));
  }

  /** Judges what a read served and applies it to the model; a fallback serves nothing and may refresh it. */
  served(conversation, messages, last, call) {
    const c = conversation.index;
    if (call.outcome === 'fallback' || call.outcome === 'untraced') {
      this.model.conversations[c].recency.mayRefresh();
      return;
    }
    if (messages !== null) this.t.judged(this.model.judge(c, messages, last, call));
    this.model.read(c, call);
  }

  async read(conversation, probe = false) {
    const last = this.t.random() < 0.5 ? 0 : this.t.int(1, 10);
    const call = await this.t.call(
      'message read',
      'getCachedMessages',
      () => this.service.getCachedMessages(conversation.id, last > 0 ? { last } : undefined),
      probe,
    );
    if (call) this.served(conversation, call.value, last, call);
    return call;
  }

  async readJson(conversation) {
    const call = await this.t.call('message read', 'getCachedMessagesJson', () =>
      this.service.getCachedMessagesJson(conversation.id),
    );
    if (call) this.served(conversation, call.value === null ? null : JSON.parse(call.value), 0, call);
  }

  /** getOrLoadMessages with the database as loader; `loadMs` makes the load slow enough for others to join it. */
  async getOrLoad(conversation, loadMs) {
    const c = conversation.index;
    const load = { ran: false };
    const loader = async () => {
      load.ran = true;
      const seqs = this.model.conversations[c].db;
      if (loadMs > 0) await sleep(loadMs);
      return this.messagesOf(seqs, conversation);
    };
    const call = await this.t.call('message read', 'getOrLoadMessages', () =>
      this.service.getOrLoadMessages(conversation.id, loader),
    );
    return call && { call, loaderRan: load.ran };
  }

  /**
   * Judges a getOrLoadMessages: unless it hit, a loader ran, its own or one it joined, and it returned the
   * database's conversation.
   */
  loaded(conversation, { call, loaderRan }) {
    const c = conversation.index;
    if (loaderRan || call.outcome !== 'hit') {
      this.t.judged(this.model.judgeLoaded(c, call.value, call));
      this.model.loaded(c, call);
    } else this.served(conversation, call.value, 0, call);
  }

  async load(conversation) {
    const loaded = await this.getOrLoad(conversation, this.t.int(0, 3));
    if (loaded) this.loaded(conversation, loaded);
  }

  async append(conversation, probe = false) {
    const c = conversation.index;
    if (this.model.conversations[c].db.length >= MAX_MESSAGES) return this.edit(conversation, probe);
    const seqs = this.model.nextSeqs(c, this.t.int(1, 3));
    const call = await this.t.call(
      'message write',
      'appendMessages',
      () => this.service.appendMessages(conversation.id, this.messagesOf(seqs, conversation)),
      probe,
    );
    if (call) this.model.appended(c, seqs, call);
    return call;
  }

  /** Messages deleted from the database, then the conversation cleared from the cache. */
  async edit(conversation, probe = false) {
    const c = conversation.index;
    this.model.truncated(c, this.t.int(1, 3));
    return this.clear(conversation, probe);
  }

  async clear(conversation, probe = false) {
    const call = await this.t.call(
      'message write',
      'clearConversation',
      () => this.service.clearConversation(conversation.id),
      probe,
    );
    if (call) this.model.cleared(conversation.index, call);
    return call;
  }

  /** The conversation replaced in the database by a new one, then cached whole. */
  async replace(conversation) {
    const c = conversation.index;
    this.model.replaced(c, this.model.nextSeqs(c, this.t.int(1, 4)));
    await this.fill(conversation);
  }

  async fill(conversation) {
    const c = conversation.index;
    const messages = this.messagesOf(this.model.conversations[c].db, conversation);
    const call = await this.t.call('message write', 'cacheMessages', () =>
      this.service.cacheMessages(conversation.id, messages),
    );
    if (call) this.model.filled(c, call);
  }

  /** Cleared, then three callers load it at once: one load, and each caller its own array (case 6). */
  async loadThrice(conversation) {
    await this.clear(conversation);
    const loads = await Promise.all([0, 1, 2].map(() => this.getOrLoad(conversation, LOAD_MS)));
    for (const load of loads) if (load) this.loaded(conversation, load);
    const arrays = loads.filter(Boolean).map(({ call }) => call.value);
    if (new Set(arrays).size < arrays.length) {
      const { call } = loads.find(Boolean);
      this.t.judged({
        conversation: conversation.id,
        op: call.name,
        at: call.start,
        reason: 'one array given to two callers',
      });
    }
  }
}

module.exports = { MessageTraffic };
