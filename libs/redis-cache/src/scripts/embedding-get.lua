-- Reads vectors and makes each hit the most recently used.
-- ARGV[2..] entry fields. Returns one value (or nil) per field.
purge_expired()
local values = {}
-- unpack() is limited by the Lua stack (about 8000 values), so HMGET goes in chunks
for first = 2, #ARGV, 1000 do
  local chunk = redis.call('HMGET', vectors, unpack(ARGV, first, math.min(first + 999, #ARGV)))
  for i = 1, #chunk do values[#values + 1] = chunk[i] end
end
local score = next_score(lru, now)
local hits = 0
for i = 1, #values do
  local field = ARGV[i + 1]
  if values[i] then
    redis.call('ZADD', lru, int(score), field)
    score = score + 1
    hits = hits + 1
  else
    -- an LRU record whose vector is missing is an orphan
    redis.call('ZREM', lru, field)
  end
end
if hits > 0 then touch_keys() end
return values
