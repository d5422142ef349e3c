-- KEYS[1] the user's vectors HASH, KEYS[2] its LRU ZSET. ARGV[1] TTL in ms.
local vectors, lru = KEYS[1], KEYS[2]
local ttl_ms = tonumber(ARGV[1])
local now = now_us()

-- An entry idle for the TTL is gone: drop it and its LRU record together.
local function purge_expired()
  local cutoff = '(' .. int(now - ttl_ms * 1000)
  local expired = redis.call('ZRANGEBYSCORE', lru, '-inf', cutoff)
  if #expired > 0 then
    call_chunked('HDEL', vectors, expired, 1, #expired)
    redis.call('ZREMRANGEBYSCORE', lru, '-inf', cutoff)
  end
end

local function touch_keys()
  redis.call('PEXPIRE', vectors, ttl_ms)
  redis.call('PEXPIRE', lru, ttl_ms)
end
