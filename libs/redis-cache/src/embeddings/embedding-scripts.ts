import { luaScript } from '../scripts/lua-scripts';

/** Each embedding script: the shared clock, the per-user index helpers, then its own file. */
const PRELUDE = ['lib/clock.lua', 'lib/embedding-index.lua'];

/**
 * The embedding cache's scripts, each on a user's three keys (`vec`, `lru`,
 * `exp`, from `embeddingKeys` in keys.ts), which share one hash tag; the set and
 * the clear also on the fourth, `clr`, the fence of a clear. The set and the
 * clear announce what they change on `NEAR_CACHE_CHANNEL`, for the near caches,
 * whose reads and touches are `nearTouch`. Their Lua is under
 * `scripts/`; docs/key-schema.md describes their arguments and replies.
 */
export const EMBEDDING_SCRIPTS = {
  get: luaScript('embeddingGet', 3, [...PRELUDE, 'embedding-get.lua']),
  touch: luaScript('embeddingTouch', 3, [...PRELUDE, 'embedding-touch.lua']),
  nearTouch: luaScript('embeddingNearTouch', 3, [...PRELUDE, 'embedding-near-touch.lua']),
  set: luaScript('embeddingSet', 4, [...PRELUDE, 'embedding-set.lua']),
  clear: luaScript('embeddingClear', 4, [...PRELUDE, 'embedding-clear.lua'], 'allow-oom'),
};
