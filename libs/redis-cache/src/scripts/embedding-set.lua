-- Stores vectors, makes them the most recently used, then evicts the least
-- recently used entries beyond the per-user limit.
-- ARGV[2] max entries, ARGV[3..] field, vector pairs. Returns the number evicted.
local max_entries = tonumber(ARGV[2])
purge_expired()
local score = next_score(lru, now)
local scored = {}
for i = 3, #ARGV, 2 do
  scored[#scored + 1] = int(score)
  scored[#scored + 1] = ARGV[i]
  score = score + 1
end
call_chunked('HSET', vectors, ARGV, 3, #ARGV)
call_chunked('ZADD', lru, scored, 1, #scored)

-- Redis may drop one of the two keys by itself (maxmemory eviction); then the
-- survivor's entries that the other lacks are dropped, so the hash and the index
-- always hold the same fields and the limit counts only real entries.
local stored, indexed = redis.call('HLEN', vectors), redis.call('ZCARD', lru)
if stored > indexed then
  for _, field in ipairs(redis.call('HKEYS', vectors)) do
    if not redis.call('ZSCORE', lru, field) then redis.call('HDEL', vectors, field) end
  end
elseif indexed > stored then
  for _, field in ipairs(redis.call('ZRANGE', lru, 0, -1)) do
    if redis.call('HEXISTS', vectors, field) == 0 then redis.call('ZREM', lru, field) end
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
