-- Ends a leader's call: its end goes into its live stream after its last part, its lock is released, and its
-- response is stored if given, unless the tenant was cleared since the call started.
-- KEYS[5] the lock HASH, KEYS[6] the live STREAM. ARGV[1] the field, ARGV[2] the lock's owner, ARGV[3] the end
-- ('done' or 'failed'), ARGV[4] the end's sequence number, ARGV[5] the stream's TTL in ms, then, to store:
-- ARGV[6] the generation the call started in, ARGV[7] the TTL in ms, ARGV[8] the most entries, ARGV[9] the response.
-- Returns {1, evicted} once stored, {-1, 0} when fenced out, {0, 0} when there was nothing to store.
local lock, live = KEYS[5], KEYS[6]
redis.call('XADD', live, '*', 'n', ARGV[4], 'e', ARGV[3])
redis.call('PEXPIRE', live, ARGV[5])
if redis.call('HGET', lock, 'owner') == ARGV[2] then redis.call('DEL', lock) end
if #ARGV < 9 then return {0, 0} end
if generation() ~= ARGV[6] then return {-1, 0} end
return {1, store_entry(ARGV[1], ARGV[9], tonumber(ARGV[7]), tonumber(ARGV[8]))}
