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
-- one ZADD for every hit and one ZREM for every miss: a call per field costs more
local touched, missing = {}, {}
for i = 1, #values do
  local field = ARGV[i + 1]
  if values[i] then
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
return values
