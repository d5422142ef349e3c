import { CONVERSATION_HEADER } from '../keys';

/**
 * How a read of a conversation turns the elements of its list, as Redis
 * returns them, into what the caller gets: the messages, or their JSON text.
 */

/**
 * The messages in a native `LRANGE` of a conversation's list, sent after the
 * read script found it cached: `0 -1` for all (which must start with the
 * header), `-last -1` for the last ones (a short list's tail holds the header,
 * never a message: messages are JSON objects). Null if the list changed to
 * not cached between the script and the LRANGE (another client's clear or
 * eviction, in the same round trip): the read is then a miss.
 */
export function messagesOf(list: string[], last: number): string[] | null {
  if (list.length === 0) return null;
  if (list[0] === CONVERSATION_HEADER) return list.slice(1);
  return last > 0 ? list : null;
}

/**
 * What a read makes of a hit's `count` messages, given as the JSON text of
 * their array: undefined if they are damaged (written by another program
 * other than as JSON objects).
 */
export type ReadDecoder<T> = (json: string, count: number) => T | undefined;

const isMessage = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The messages, or undefined unless the text parses to `count` JSON objects, one per stored element. */
export const parseMessages: ReadDecoder<Record<string, unknown>[]> = (json, count) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  const messages = parsed as unknown[];
  return messages.length === count && messages.every(isMessage) ? (messages as Record<string, unknown>[]) : undefined;
};

/** The text as stored, unparsed: for a route that answers with it, which then needs no parse. */
export const asStored: ReadDecoder<string> = (json) => json;
