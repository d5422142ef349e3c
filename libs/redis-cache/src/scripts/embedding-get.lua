-- Reads vectors and makes each hit the most recently used.
-- ARGV[2..] entry fields. Returns one value (or nil) per field.
purge_expired()
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
local values = redis.call('HMGET', vectors, unpack(fields))
local score = next_score(lru, now)
local hits = 0
for i = 1, #fields do
  if values[i] then
    redis.call('ZADD', lru, int(score), fields[i])
    score = score + 1
    hits = hits + 1
  else
    -- an LRU record whose vector is missing is an orphan
    redis.call('ZREM', lru, fields[i])
  end
end
if hits > 0 then touch_keys() end
return values
