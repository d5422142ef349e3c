import { EMBEDDING_DEFAULTS } from '@wbot/redis-cache';

/** What the API accepts. Each limit is enforced by validation before anything is written. */

/**
 * The deepest a JSON body may nest objects and arrays (`{"messages":[{...}]}` is 3
 * deep); a deeper body answers 400 before it is parsed. Validation and
 * class-transformer walk a body recursively, and a body nested a few thousand deep,
 * 3 KB of brackets, overflowed their stack (a 500).
 */
export const MAX_JSON_DEPTH = 64;

/** Conversation and user ids: short, printable, and safe in a URL path without escaping. */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const ID_PATTERN_MESSAGE = '$property must be 1 to 128 characters from A-Z, a-z, 0-9 and _ . : -';

export const MESSAGE_ROLES = ['user', 'assistant', 'system', 'tool'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

export const MAX_MESSAGES_PER_APPEND = 100;
export const MAX_CONTENT_LENGTH = 100_000;
export const MAX_NAME_LENGTH = 64;
export const MAX_TITLE_LENGTH = 200;
/** The most messages `?last=` may ask for; a conversation may hold more, and omitting `last` returns all. */
export const MAX_LAST = 10_000;

/**
 * The roles of a message POST /chat takes. Not `system`: a client's system message is a way to inject instructions
 * (the AI SDK warns of it), and a real app sets its own; nor `tool`, which holds tool results.
 */
export const CHAT_ROLES = ['user', 'assistant'] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];
/** The most messages one POST /chat may send: the conversation so far, and the question. */
export const MAX_CHAT_MESSAGES = 100;

export const MAX_TEXT_LENGTH = 100_000;
export const MAX_TEXTS_PER_EMBED = 256;
export const MAX_EMBEDDING_DIMENSIONS = EMBEDDING_DEFAULTS.maxDimensions;
/** The largest magnitude a float32 can hold; embeddings are stored as float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * The largest message the cache takes, serialized. A message of MAX_CONTENT_LENGTH
 * characters that each serialize to a six-byte escape (`\u0001`) is 600 KB, over the
 * library's 256 KiB default, and an append the cache refuses after the database
 * committed would be an error the caller can do nothing about.
 */
export const MAX_CACHED_MESSAGE_BYTES = 1024 * 1024;
