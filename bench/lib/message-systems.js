'use strict';
// One adapter per message store under test, all with the same shape, each
// worker on its own conversation: fill(w) replaces conversation w with the 50
// fixture messages, read(w) reads it back (true only for 50 messages),
// append(w) adds one new message, close() releases the connections. Each
// system keeps its conversations under keys of its own.

const { AIMessage, HumanMessage } = require('@langchain/core/messages');
const { RedisChatMessageHistory } = require('@langchain/redis');
const { createClient } = require('redis');
const { createCacheRedis, MessageCacheClient } = require('../../libs/redis-cache/dist');
const { CONVERSATION, CONVERSATION_LENGTH, message } = require('./fixtures');
const { floorClient, ready } = require('./redis');

/** Large enough that nothing is evicted during the bench. */
const MAX_CACHED_MESSAGES = 10_000_000;
/** LangChain.js gets the same TTL as ours (24 h), so it pays for its EXPIRE as users configure it. */
const SESSION_TTL_SECONDS = 24 * 60 * 60;

/** A fresh message per append, so id de-duplication never skips one. */
function appender() {
  let n = 0;
  return () => message(`a${n++}`, 'user');
}

/** Ours: MessageCacheClient on a client from the library's createCacheRedis; own conversations per configuration. */
async function ours(url, { enableAutoPipelining }) {
  const client = await ready(createCacheRedis(url, { enableAutoPipelining }));
  const conversation = (w) => `bench-conv-autopipelining-${enableAutoPipelining ? 'on' : 'off'}-${w}`;
  const cache = new MessageCacheClient(client, { maxCachedMessages: MAX_CACHED_MESSAGES });
  const next = appender();
  // A read of an absent conversation loads the script and writes nothing.
  await cache.getCachedMessages('prime');
  return {
    fill: (w) => cache.cacheMessages(conversation(w), CONVERSATION),
    read: async (w) => (await cache.getCachedMessages(conversation(w)))?.length === CONVERSATION_LENGTH,
    append: (w) => cache.appendMessages(conversation(w), [next()]),
    stats: () => cache.stats(),
    close: () => client.quit(),
  };
}

/** The floor: one LIST of JSON strings per conversation, plain commands. */
async function raw(url) {
  const client = await floorClient(url);
  const key = (w) => `raw:conv:${w}`;
  const next = appender();
  return {
    fill: async (w) => {
      const texts = CONVERSATION.map((m) => JSON.stringify(m));
      const replies = await client
        .multi()
        .del(key(w))
        .rpush(key(w), ...texts)
        .exec();
      return replies[1][1] === CONVERSATION_LENGTH;
    },
    read: async (w) => {
      const texts = await client.lrange(key(w), 0, -1);
      return texts.map((t) => JSON.parse(t)).length === CONVERSATION_LENGTH;
    },
    append: async (w) => (await client.rpush(key(w), JSON.stringify(next()))) > 0,
    close: () => client.quit(),
  };
}

/** LangChain.js: RedisChatMessageHistory from @langchain/redis, on one shared node-redis client. */
async function langchain(url) {
  const client = createClient({ url });
  client.on('error', () => {
    // a failure shows as failed operations in the figures
  });
  await client.connect();
  const histories = new Map();
  const history = (w) => {
    if (!histories.has(w)) {
      histories.set(
        w,
        new RedisChatMessageHistory({ sessionId: `lc:conv:${w}`, sessionTTL: SESSION_TTL_SECONDS, client }),
      );
    }
    return histories.get(w);
  };
  const toLangChain = ({ id, role, content }) =>
    role === 'user' ? new HumanMessage({ id, content }) : new AIMessage({ id, content });
  const conversation = CONVERSATION.map(toLangChain);
  const next = appender();
  return {
    // There is no bulk write: addMessages (inherited) awaits one addMessage per message.
    fill: async (w) => {
      await history(w).clear();
      await history(w).addMessages(conversation);
      return true;
    },
    read: async (w) => (await history(w).getMessages()).length === CONVERSATION_LENGTH,
    append: async (w) => {
      await history(w).addMessage(toLangChain(next()));
      return true;
    },
    close: () => client.quit(),
  };
}

module.exports = { MAX_CACHED_MESSAGES, langchain, ours, raw };
