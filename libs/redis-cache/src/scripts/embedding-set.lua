-- Stores vectors, makes them the most recently used, then evicts the least
-- recently used entries beyond the per-user limit.
-- ARGV[2] max entries, ARGV[3..] field, vector pairs. Returns the number evicted.
local max_entries = tonumber(ARGV[2])
purge_expired()
local score = next_score(lru, now)
for i = 3, #ARGV, 2 do
  redis.call('HSET', vectors, ARGV[i], ARGV[i + 1])
  redis.call('ZADD', lru, int(score), ARGV[i])
  score = score + 1
end

-- Vectors without an LRU record (their ZSET was evicted by maxmemory) are
-- dropped, so the hash and the index always hold the same fields.
if redis.call('HLEN', vectors) > redis.call('ZCARD', lru) then
  local fields = redis.call('HKEYS', vectors)
  for _, field in ipairs(fields) do
    if not redis.call('ZSCORE', lru, field) then redis.call('HDEL', vectors, field) end
  end
end

local evicted = 0
local excess = redis.call('ZCARD', lru) - max_entries
if excess > 0 then
  local victims = redis.call('ZRANGE', lru, 0, excess - 1)
  call_chunked('HDEL', vectors, victims, 1, #victims)
  redis.call('ZREMRANGEBYRANK', lru, 0, excess - 1)
  evicted = #victims
end
touch_keys()
return evicted
