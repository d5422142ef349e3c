import { BaseListChatMessageHistory } from '@langchain/core/chat_history';
import {
  BaseMessage,
  mapChatMessagesToStoredMessages,
  mapStoredMessagesToChatMessages,
  type StoredMessage,
} from '@langchain/core/messages';
import { MessageCacheClient, type CachedMessage } from '../messages/message-cache.client';
import { RedisCacheInputError } from '../errors';
import { assertArray, assertConversationId, assertFunction, assertJsonObject } from '../options/input';

/** Reads a whole conversation from the app's database, oldest message first. */
export type ChatHistoryLoader = (conversationId: string) => Promise<BaseMessage[]>;

/**
 * Commits new messages of a conversation to the app's database, resolving once they are committed
 * (its result is ignored) and rejecting if they are not. It must not change the messages: the cache
 * holds them as they were given.
 */
export type ChatHistoryPersister = (messages: BaseMessage[], conversationId: string) => Promise<unknown>;

/** What `RedisCacheChatMessageHistory` is built from. */
export interface RedisCacheChatMessageHistoryOptions {
  /** The message cache: a `MessageCacheService`, or a `MessageCacheClient` outside Nest. */
  cache: MessageCacheClient;
  /** The conversation; its cached entries must all be written by this adapter. */
  conversationId: string;
  /** Reads the conversation from the app's database on a cache miss. */
  load: ChatHistoryLoader;
  /** Writes new messages to the app's database before they are appended to the cache. */
  persist: ChatHistoryPersister;
}

/** A conversation whose messages the cache refuses to hold (see `isCacheable`): served from the database, uncached. */
class UncacheableConversation extends Error {
  constructor(readonly entries: CachedMessage[]) {
    super('the conversation holds a message the cache refuses');
  }
}

/** The entries of loads: one load serves every call in this process that joined it. */
const loadedEntries = new WeakSet<CachedMessage[]>();

function assertMessages(messages: unknown, argument: string): asserts messages is BaseMessage[] {
  assertArray(messages, argument, Infinity);
  for (let i = 0; i < messages.length; i++) {
    if (!BaseMessage.isInstance(messages[i])) {
      throw new RedisCacheInputError(`${argument}[${i}]`, 'must be a LangChain BaseMessage');
    }
  }
}

/**
 * The cache entries of messages: each is LangChain's StoredMessage, and its `id` when it has one, at
 * the top for the cache's idempotent append. Entries are the JSON a hit reads back, so that a miss,
 * which returns what was loaded, gives the same messages as a hit.
 */
function toEntries(messages: BaseMessage[], argument: string): CachedMessage[] {
  return mapChatMessagesToStoredMessages(messages).map(({ type, data }, i) => {
    // toDict() leaves out an id set after the message was constructed
    const { id } = messages[i];
    const entry = id ? { id, type, data: { ...data, id } } : { type, data };
    let json: string;
    try {
      json = JSON.stringify(entry);
    } catch (error) {
      throw new RedisCacheInputError(`${argument}[${i}]`, `must serialize to JSON (${(error as Error).message})`);
    }
    return JSON.parse(json) as CachedMessage;
  });
}

/** Whether the cache takes the entry: JSON may still hold a `__proto__` key, or nest past the cache's depth. */
function isCacheable(entry: CachedMessage): boolean {
  try {
    assertJsonObject(entry, 'entry');
    return true;
  } catch {
    return false;
  }
}

/**
 * A LangChain chat message history on the write-through message cache. Reads serve the cache and,
 * on a miss, `load` the conversation under a fill lease, so a load that a write overtook never fills
 * the cache. Writes `persist` to the app's database first, then append to the cached conversation.
 *
 * Messages are cached as LangChain's StoredMessage JSON (`mapChatMessagesToStoredMessages`), and
 * read back through `mapStoredMessagesToChatMessages`, after a hit or a load alike. A message with
 * an `id` is appended at most once, so retrying `addMessages` adds nothing to the cache (make
 * `persist` an upsert by id, and the retry is safe end to end); messages without one are never
 * taken for one another, even with the same content.
 */
export class RedisCacheChatMessageHistory extends BaseListChatMessageHistory {
  /** LangChain's serialization namespace of this class. */
  lc_namespace = ['langchain', 'stores', 'message', 'wbot_redis_cache'];
  private readonly cache: MessageCacheClient;
  private readonly conversationId: string;
  private readonly load: ChatHistoryLoader;
  private readonly persist: ChatHistoryPersister;

  constructor(options: RedisCacheChatMessageHistoryOptions) {
    super();
    const { cache, conversationId, load, persist } = (options ?? {}) as Partial<RedisCacheChatMessageHistoryOptions>;
    if (!(cache instanceof MessageCacheClient)) {
      throw new RedisCacheInputError('cache', 'must be a MessageCacheService or a MessageCacheClient');
    }
    assertConversationId(conversationId);
    assertFunction(load, 'load');
    assertFunction(persist, 'persist');
    this.cache = cache;
    this.conversationId = conversationId;
    this.load = load;
    this.persist = persist;
  }

  /**
   * The conversation, oldest first: from the cache on a hit, else from `load`, which fills the cache.
   * A conversation with a message the cache refuses (larger than `maxMessageBytes`, say) is loaded
   * on every call. A `load` failure rejects; a Redis failure only means `load` runs.
   */
  async getMessages(): Promise<BaseMessage[]> {
    let entries: CachedMessage[];
    try {
      entries = await this.cache.getOrLoadMessages(this.conversationId, () => this.loadEntries());
    } catch (error) {
      if (!(error instanceof UncacheableConversation)) throw error;
      entries = error.entries;
    }
    // a hit's entries are freshly parsed, a load's are shared with every call that joined it
    const own = loadedEntries.has(entries) ? structuredClone(entries) : entries;
    return mapStoredMessagesToChatMessages(own as unknown as StoredMessage[]);
  }

  /** Persists the message, then appends it to the cached conversation. */
  async addMessage(message: BaseMessage): Promise<void> {
    if (!BaseMessage.isInstance(message)) throw new RedisCacheInputError('message', 'must be a LangChain BaseMessage');
    await this.addMessages([message]);
  }

  /**
   * Persists the messages, then appends them to the cached conversation (a conversation not cached
   * stays so: the next read loads it). If `persist` rejects, nothing is appended, the cached copy is
   * dropped (a database that failed may still have committed), and the rejection propagates. If the
   * cache refuses them (past `maxMessageBytes` or another per-call limit), the cached copy is dropped
   * too, since it would lack them, and the call resolves: the database has them.
   */
  override async addMessages(messages: BaseMessage[]): Promise<void> {
    assertMessages(messages, 'messages');
    if (messages.length === 0) return;
    // taken before persist runs, so that the cache holds what the database was given
    const entries = toEntries(messages, 'messages');
    try {
      await this.persist(messages, this.conversationId);
    } catch (error) {
      await this.cache.clearConversation(this.conversationId);
      throw error;
    }
    try {
      await this.cache.appendMessages(this.conversationId, entries);
    } catch (error) {
      if (!(error instanceof RedisCacheInputError)) throw error;
      await this.cache.clearConversation(this.conversationId);
    }
  }

  /** Removes the conversation from the cache. The app's database is the app's to clear, before this. */
  override async clear(): Promise<void> {
    await this.cache.clearConversation(this.conversationId);
  }

  private async loadEntries(): Promise<CachedMessage[]> {
    const messages = await this.load(this.conversationId);
    assertMessages(messages, 'load()');
    const entries = toEntries(messages, 'load()');
    loadedEntries.add(entries);
    // the cache would reject the whole load, and with it the read
    if (!entries.every(isCacheable)) throw new UncacheableConversation(entries);
    return entries;
  }
}
