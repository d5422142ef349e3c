-- Reads vectors and makes each hit the most recently used.
-- ARGV[2..] entry fields. Returns one value (or nil) per field, then the
-- server's time in µs: where a computation of the misses begins (embedding-set).
purge_expired()
local values = {}
-- unpack() is limited by the Lua stack (about 8000 values), so HMGET goes in chunks
for first = 2, #ARGV, 1000 do
  local chunk = redis.call('HMGET', vectors, unpack(ARGV, first, math.min(first + 999, #ARGV)))
  for i = 1, #chunk do values[#values + 1] = chunk[i] end
end
record_reads(values)
values[#values + 1] = int(now)
return values
