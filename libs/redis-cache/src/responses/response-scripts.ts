import { luaScript } from '../scripts/lua-scripts';

/** Each script on a tenant's index: the shared clock, the index helpers, then its own file. */
const PRELUDE = ['lib/clock.lua', 'lib/response-index.lua'];

/**
 * The response cache's scripts. Those on a tenant's index take its four keys first (`entries`, `lru`,
 * `deadlines`, `fence`, from `responseKeys` in keys.ts), then a call's lock and live stream; the relay and the
 * renewal take a call's keys only. All of them share the tenant's hash tag. Their Lua is under `scripts/`;
 * docs/response-cache.md describes their arguments and replies.
 */
export const RESPONSE_SCRIPTS = {
  lookup: luaScript('responseLookup', 5, [...PRELUDE, 'response-lookup.lua']),
  store: luaScript('responseStore', 4, [...PRELUDE, 'response-store.lua']),
  finish: luaScript('responseFinish', 6, [...PRELUDE, 'response-finish.lua']),
  relay: luaScript('responseRelay', 1, ['response-relay.lua']),
  renew: luaScript('responseRenew', 3, ['response-renew.lua']),
  clear: luaScript('responseClear', 4, [...PRELUDE, 'response-clear.lua'], 'allow-oom'),
};
