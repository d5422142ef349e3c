import { luaScript } from '../scripts/lua-scripts';

/** Each message script: the shared clock, the bucket's budget and repair, then its own file. */
export const MESSAGE_PRELUDE = ['lib/clock.lua', 'lib/message-budget.lua'];

/**
 * The message cache's scripts, each on a conversation's seven keys (from
 * `conversationKeys` in keys.ts), which share their bucket's hash tag. Their
 * Lua is under `scripts/`; docs/key-schema.md describes their arguments and replies.
 */
export const MESSAGE_SCRIPTS = {
  read: luaScript('messageRead', 7, [...MESSAGE_PRELUDE, 'message-read.lua']),
  fill: luaScript('messageFill', 7, [...MESSAGE_PRELUDE, 'message-fill.lua']),
  append: luaScript('messageAppend', 7, [...MESSAGE_PRELUDE, 'message-append.lua']),
  clear: luaScript('messageClear', 7, [...MESSAGE_PRELUDE, 'message-clear.lua'], 'allow-oom'),
};

/** One of the message cache's scripts. */
export type MessageScript = (typeof MESSAGE_SCRIPTS)[keyof typeof MESSAGE_SCRIPTS];
