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

-- After a read: makes each field found the most recently used (one ZADD) and
-- drops the LRU record of each field not found, an orphan (one ZREM): a call
-- per field costs more. found[i] is truthy when ARGV[i + 1] was found.
-- Returns the number found.
local function record_reads(found)
  local score = next_score(lru, now)
  local touched, missing = {}, {}
  for i = 1, #ARGV - 1 do
    local field = ARGV[i + 1]
    if found[i] then
      touched[#touched + 1] = int(score)
      touched[#touched + 1] = field
      score = score + 1
    else
      missing[#missing + 1] = field
    end
  end
  if #touched > 0 then
    call_chunked('ZADD', lru, touched, 1, #touched)
    touch_keys()
  end
  if #missing > 0 then call_chunked('ZREM', lru, missing, 1, #missing) end
  return #touched / 2
end
