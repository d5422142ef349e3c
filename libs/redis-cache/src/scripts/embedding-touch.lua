-- The bookkeeping of a batch read, whose vectors come from a native HMGET sent
-- right after this script in the same round trip: passing them through Lua
-- would copy every vector twice. Makes each present field the most recently
-- used and drops the LRU record of each absent one.
-- ARGV[2..] entry fields. Returns the number of fields present.
purge_expired()
local score = next_score(lru, now)
local touched, missing = {}, {}
for i = 2, #ARGV do
  local field = ARGV[i]
  if redis.call('HEXISTS', vectors, field) == 1 then
    touched[#touched + 1] = int(score)
    touched[#touched + 1] = field
    score = score + 1
  else
    -- an LRU record whose vector is missing is an orphan
    missing[#missing + 1] = field
  end
end
if #touched > 0 then
  call_chunked('ZADD', lru, touched, 1, #touched)
  touch_keys()
end
if #missing > 0 then call_chunked('ZREM', lru, missing, 1, #missing) end
return #touched / 2
