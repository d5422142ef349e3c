-- Stores vectors, makes them the most recently used, then evicts the least
-- recently used entries beyond the per-user limit. When it writes over a field
-- or evicts one, it tells the near caches which fields changed.
-- ARGV[2] max entries, ARGV[3] the TTL of these entries in ms (ARGV[1] unless
-- the write gives its own), ARGV[4..] field, vector pairs. Returns the number evicted.
-- With a fourth key (the user's `clr`), ARGV[4] is when the computation of these
-- vectors began, in µs of the server's clock ('' for a write that is not a
-- computation's, '0' if unknown), and the pairs start at ARGV[5]: a computation
-- that began no later than the user's last clear writes nothing, and gets -1.
local max_entries = tonumber(ARGV[2])
local own_ms = tonumber(ARGV[3])
local first = 4
if KEYS[4] then
  first = 5
  local since, cleared = ARGV[4], redis.call('GET', KEYS[4])
  if since ~= '' and cleared and tonumber(cleared) >= tonumber(since) then return -1 end
end
purge_expired()

-- The first entry with a TTL of its own gives every entry of the user a
-- deadline: the others', their last access plus the TTL.
if own_ms ~= ttl_ms and not has_deadlines then
  start_deadlines_of(lru, deadlines, ttl_ms)
  has_deadlines = true
end

local score = next_score(lru, now)
local scored, due = {}, {}
for i = first, #ARGV, 2 do
  scored[#scored + 1] = int(score)
  scored[#scored + 1] = ARGV[i]
  due[#due + 1] = int(score + own_ms * 1000)
  due[#due + 1] = ARGV[i]
  score = score + 1
end
-- HSET counts the fields it adds: fewer than the pairs means some were written over
local added = 0
for i = first, #ARGV, 1000 do
  added = added + redis.call('HSET', vectors, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
call_chunked('ZADD', lru, scored, 1, #scored)
if has_deadlines then call_chunked('ZADD', deadlines, due, 1, #due) end

-- Redis may drop one of the keys by itself (maxmemory eviction); then the
-- survivor's entries that the other lacks are dropped, so the hash and the index
-- always hold the same fields and the limit counts only real entries; so do the
-- deadlines, which lose those of entries lost with both other keys.
local function drop(field)
  redis.call('HDEL', vectors, field)
  redis.call('ZREM', lru, field)
  if has_deadlines then redis.call('ZREM', deadlines, field) end
end
local stored, indexed = redis.call('HLEN', vectors), redis.call('ZCARD', lru)
if stored > indexed then
  for _, field in ipairs(redis.call('HKEYS', vectors)) do
    if not redis.call('ZSCORE', lru, field) then drop(field) end
  end
elseif indexed > stored then
  for _, field in ipairs(redis.call('ZRANGE', lru, '0', '-1')) do
    if redis.call('HEXISTS', vectors, field) == 0 then drop(field) end
  end
end
if has_deadlines and redis.call('ZCARD', deadlines) > redis.call('ZCARD', lru) then
  for _, field in ipairs(redis.call('ZRANGE', deadlines, '0', '-1')) do
    if not redis.call('ZSCORE', lru, field) then redis.call('ZREM', deadlines, field) end
  end
end

local evicted, victims = 0, nil
local excess = redis.call('ZCARD', lru) - max_entries
if excess > 0 then
  victims = redis.call('ZRANGE', lru, '0', int(excess - 1))
  call_chunked('HDEL', vectors, victims, 1, #victims)
  redis.call('ZREMRANGEBYRANK', lru, '0', int(excess - 1))
  if has_deadlines then call_chunked('ZREM', deadlines, victims, 1, #victims) end
  evicted = #victims
end
touch_keys()

local written_over = added < (#ARGV - first + 1) / 2
if written_over or evicted > 0 then
  local changed = {}
  if written_over then
    for i = first, #ARGV, 2 do changed[#changed + 1] = ARGV[i] end
  end
  for i = 1, evicted do changed[#changed + 1] = victims[i] end
  announce(changed)
end
return evicted
