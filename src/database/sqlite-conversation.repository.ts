import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OnApplicationShutdown } from '@nestjs/common';
import Database from 'better-sqlite3';
import {
  ConversationRepository,
  type NewMessage,
  type StoredConversation,
  type StoredMessage,
} from './conversation.repository';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT,
    created_at TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    name TEXT,
    created_at TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages (conversation_id, id);
`;

interface MessageRow {
  id: number;
  role: StoredMessage['role'];
  content: string;
  name: string | null;
  created_at: string;
}

/** A row as the API shows it: no `name` key at all when there is none, so database and cache agree exactly. */
function toMessage(row: MessageRow): StoredMessage {
  const message: StoredMessage = { id: row.id, role: row.role, content: row.content, createdAt: row.created_at };
  if (row.name !== null) message.name = row.name;
  return message;
}

/**
 * Conversations in one SQLite file (better-sqlite3, synchronous and in-process).
 * `:memory:` keeps them in this process only, as the tests do. The file closes on
 * application shutdown, which Nest runs after the HTTP server has let in-flight
 * requests finish.
 */
export class SqliteConversationRepository extends ConversationRepository implements OnApplicationShutdown {
  private readonly db: Database.Database;
  private readonly statements;
  private readonly insertMessages: (conversationId: string, messages: NewMessage[]) => StoredMessage[] | null;

  constructor(path: string) {
    super();
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.statements = {
      insertConversation: this.db.prepare<[string, string | null, string]>(
        'INSERT INTO conversations (id, title, created_at) VALUES (?, ?, ?)',
      ),
      conversationExists: this.db.prepare<[string]>('SELECT 1 FROM conversations WHERE id = ?').pluck(),
      selectMessages: this.db.prepare<[string], MessageRow>(
        'SELECT id, role, content, name, created_at FROM messages WHERE conversation_id = ? ORDER BY id',
      ),
      insertMessage: this.db.prepare<[string, string, string, string | null, string], MessageRow>(
        `INSERT INTO messages (conversation_id, role, content, name, created_at) VALUES (?, ?, ?, ?, ?)
         RETURNING id, role, content, name, created_at`,
      ),
      deleteConversation: this.db.prepare<[string]>('DELETE FROM conversations WHERE id = ?'),
    };
    // RETURNING gives the values as stored, so the cache gets exactly what a later load would
    this.insertMessages = this.db.transaction((conversationId: string, messages: NewMessage[]) => {
      if (!this.statements.conversationExists.get(conversationId)) return null;
      const createdAt = new Date().toISOString();
      return messages.map((message) =>
        toMessage(
          this.statements.insertMessage.get(
            conversationId,
            message.role,
            message.content,
            message.name ?? null,
            createdAt,
          )!,
        ),
      );
    });
  }

  get isOpen(): boolean {
    return this.db.open;
  }

  async createConversation(title: string | undefined): Promise<StoredConversation> {
    const conversation: StoredConversation = { id: randomUUID(), createdAt: new Date().toISOString() };
    if (title !== undefined) conversation.title = title;
    this.statements.insertConversation.run(conversation.id, title ?? null, conversation.createdAt);
    return conversation;
  }

  async listMessages(conversationId: string): Promise<StoredMessage[] | null> {
    const rows = this.statements.selectMessages.all(conversationId);
    if (rows.length === 0 && !this.statements.conversationExists.get(conversationId)) return null;
    return rows.map(toMessage);
  }

  async appendMessages(conversationId: string, messages: NewMessage[]): Promise<StoredMessage[] | null> {
    return this.insertMessages(conversationId, messages);
  }

  async deleteConversation(conversationId: string): Promise<boolean> {
    return this.statements.deleteConversation.run(conversationId).changes > 0;
  }

  onApplicationShutdown(): void {
    if (this.db.open) this.db.close();
  }
}
