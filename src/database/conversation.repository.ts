import type { MessageRole } from '../common/limits';

export interface StoredConversation {
  id: string;
  title?: string;
  createdAt: string;
}

// type aliases, not interfaces: the cache takes messages as Record<string, unknown>
export type NewMessage = {
  role: MessageRole;
  content: string;
  name?: string;
};

/** A message as the database holds it, and as the cache and the API return it. */
export type StoredMessage = NewMessage & {
  /** The database's id, also the cache's id for the message, which makes a retried append add nothing. */
  id: number;
  createdAt: string;
};

/**
 * The system of record for conversations. The service depends on this class
 * only, so another database can replace SQLite by providing another subclass.
 */
export abstract class ConversationRepository {
  abstract createConversation(title: string | undefined): Promise<StoredConversation>;

  /** The conversation's messages in the order they were written, or null if there is no such conversation. */
  abstract listMessages(conversationId: string): Promise<StoredMessage[] | null>;

  /** Stores messages in one transaction, in order; null (and nothing stored) if there is no such conversation. */
  abstract appendMessages(conversationId: string, messages: NewMessage[]): Promise<StoredMessage[] | null>;

  /** Deletes the conversation and its messages; false if there was none. */
  abstract deleteConversation(conversationId: string): Promise<boolean>;
}
