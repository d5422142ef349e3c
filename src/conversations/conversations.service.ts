import { Injectable, NotFoundException } from '@nestjs/common';
import { MessageCacheService } from '@wbot/redis-cache';
import {
  ConversationRepository,
  type NewMessage,
  type StoredConversation,
  type StoredMessage,
} from '../database/conversation.repository';
import { MetricsService } from '../metrics/metrics.service';

/**
 * A read: on a hit, the cached messages as the JSON text of their array, as
 * Redis holds them, to be answered without a parse and a serialization; on a
 * miss, the messages loaded from the database.
 */
export type MessagesRead = { cache: 'HIT'; json: string } | { cache: 'MISS'; messages: StoredMessage[] };

const stored = (done: boolean) => (done ? 'stored' : 'not_stored');
const cleared = (done: boolean) => (done ? 'cleared' : 'not_cleared');

function notFound(conversationId: string): NotFoundException {
  return new NotFoundException(`Conversation ${conversationId} not found`);
}

/**
 * Conversations with SQLite as the system of record and the message cache in
 * front of it, write-through: every write goes to the database first, then to
 * the cache (docs/write-through.md).
 */
@Injectable()
export class ConversationsService {
  constructor(
    private readonly repository: ConversationRepository,
    private readonly cache: MessageCacheService,
    private readonly metrics: MetricsService,
  ) {}

  create(title: string | undefined): Promise<StoredConversation> {
    return this.repository.createConversation(title);
  }

  /** From the cache when it holds the conversation, else loaded from the database (and cached). */
  async read(conversationId: string, last: number | undefined): Promise<MessagesRead> {
    const json = await this.metrics.trackCache(
      'shared',
      'getCachedMessagesJson',
      () => this.cache.getCachedMessagesJson(conversationId, last === undefined ? {} : { last }),
      (cached) => (cached === null ? 'miss' : 'hit'),
    );
    if (json !== null) return { cache: 'HIT', json };

    let loaded = false;
    const load = async () => {
      loaded = true;
      const messages = await this.repository.listMessages(conversationId);
      if (!messages) throw notFound(conversationId);
      return messages;
    };
    const all = await this.metrics.trackCache(
      'shared',
      'getOrLoadMessages',
      () => this.cache.getOrLoadMessages(conversationId, load),
      () => (loaded ? 'miss' : 'hit'),
    );
    const messages = (last === undefined ? all : all.slice(-last)) as StoredMessage[];
    return { messages, cache: 'MISS' };
  }

  /** Commits the messages in one transaction, then appends them to the cached conversation, if it is cached. */
  async append(conversationId: string, messages: NewMessage[]): Promise<StoredMessage[]> {
    const committed = await this.repository.appendMessages(conversationId, messages);
    if (!committed) throw notFound(conversationId);
    await this.metrics.trackCache(
      'shared',
      'appendMessages',
      () => this.cache.appendMessages(conversationId, committed),
      stored,
    );
    return committed;
  }

  async delete(conversationId: string): Promise<void> {
    const deleted = await this.repository.deleteConversation(conversationId);
    // cleared even when the database had nothing: a copy left by an earlier failed clear must go too
    await this.metrics.trackCache(
      'shared',
      'clearConversation',
      () => this.cache.clearConversation(conversationId),
      cleared,
    );
    if (!deleted) throw notFound(conversationId);
  }
}
