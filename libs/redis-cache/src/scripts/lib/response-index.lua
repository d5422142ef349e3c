-- KEYS[1] the tenant's responses HASH, KEYS[2] its LRU ZSET, KEYS[3] its deadlines ZSET, KEYS[4] its fence STRING.
local entries, lru, deadlines, fence = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = now_us()

-- A response past its deadline is gone: drop it, its LRU record and its deadline together.
local function purge_expired()
  local past = '(' .. int(now)
  local expired = redis.call('ZRANGEBYSCORE', deadlines, '-inf', past)
  if #expired == 0 then return end
  redis.call('ZREMRANGEBYSCORE', deadlines, '-inf', past)
  call_chunked('ZREM', lru, expired, 1, #expired)
  call_chunked('HDEL', entries, expired, 1, #expired)
end

-- The tenant's generation: how many clears it has had while its fence lived ('0' for none).
local function generation()
  return redis.call('GET', fence) or '0'
end

-- Redis may drop one of the three keys by itself (maxmemory eviction); then only the fields that all three still
-- hold are kept, so that the limit counts real entries and every entry still expires.
local function reconcile()
  local stored, indexed, timed = redis.call('HLEN', entries), redis.call('ZCARD', lru), redis.call('ZCARD', deadlines)
  if stored == indexed and indexed == timed then return end
  local function drop(field)
    redis.call('HDEL', entries, field)
    redis.call('ZREM', lru, field)
    redis.call('ZREM', deadlines, field)
  end
  for _, field in ipairs(redis.call('HKEYS', entries)) do
    if not redis.call('ZSCORE', lru, field) or not redis.call('ZSCORE', deadlines, field) then drop(field) end
  end
  for _, field in ipairs(redis.call('ZRANGE', lru, '0', '-1')) do
    if redis.call('HEXISTS', entries, field) == 0 then drop(field) end
  end
  for _, field in ipairs(redis.call('ZRANGE', deadlines, '0', '-1')) do
    if redis.call('HEXISTS', entries, field) == 0 then drop(field) end
  end
end

-- Stores `value` under `field` for `ttl_ms` from now (hits do not extend it), the most recently used, then evicts
-- the least recently used entries beyond `max_entries`. The keys live as long as the entry that lives longest.
-- Returns the number evicted.
local function store_entry(field, value, ttl_ms, max_entries)
  purge_expired()
  redis.call('HSET', entries, field, value)
  redis.call('ZADD', lru, int(next_score(lru, now)), field)
  redis.call('ZADD', deadlines, int(now + ttl_ms * 1000), field)
  reconcile()
  local evicted = 0
  local excess = redis.call('ZCARD', lru) - max_entries
  if excess > 0 then
    local victims = redis.call('ZRANGE', lru, '0', int(excess - 1))
    call_chunked('HDEL', entries, victims, 1, #victims)
    call_chunked('ZREM', deadlines, victims, 1, #victims)
    redis.call('ZREMRANGEBYRANK', lru, '0', int(excess - 1))
    evicted = #victims
  end
  local latest = redis.call('ZRANGE', deadlines, '-1', '-1', 'WITHSCORES')
  local ms = int(math.max(1, math.ceil((tonumber(latest[2]) - now) / 1000)))
  redis.call('PEXPIRE', entries, ms)
  redis.call('PEXPIRE', lru, ms)
  redis.call('PEXPIRE', deadlines, ms)
  return evicted
end
