-- The bookkeeping of a batch read, whose vectors come from a native HMGET sent
-- right after this script in the same round trip: passing them through Lua
-- would copy every vector twice. Makes each present field the most recently
-- used and drops the LRU record of each absent one.
-- ARGV[2..] entry fields. Returns the number of fields present and the server's
-- time in µs: where a computation of the misses begins (embedding-set).
purge_expired()
local found = {}
for i = 2, #ARGV do
  found[i - 1] = redis.call('HEXISTS', vectors, ARGV[i]) == 1
end
return { record_reads(found), int(now) }
