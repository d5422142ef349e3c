-- KEYS[1] the user's vectors HASH, KEYS[2] its LRU ZSET, KEYS[3] its deadlines ZSET. ARGV[1] TTL in ms.
local vectors, lru, deadlines = KEYS[1], KEYS[2], KEYS[3]
local ttl_arg = ARGV[1]
local ttl_ms = tonumber(ttl_arg)
local now = now_us()
-- Once an entry was written with a TTL of its own, every entry of the user has a
-- deadline (its last access plus its own TTL, the TTL for the others), and the
-- deadlines alone say what has expired. Until then, the TTL does, from the LRU.
local has_deadlines = redis.call('EXISTS', deadlines) == 1

-- The channel on which the scripts tell every process's near cache (embeddings/near-cache/)
-- that entries of this user changed: NEAR_CACHE_CHANNEL in keys.ts.
local NEAR_CHANNEL = 'wbot:emb:near'

-- Announces that `fields` of this user changed (written over, evicted), or, with
-- none, that all of its entries are gone: the user's vec key, then the fields.
local function announce(fields)
  local message = vectors
  if fields then message = vectors .. ' ' .. table.concat(fields, ' ') end
  redis.call('PUBLISH', NEAR_CHANNEL, message)
end

-- An entry idle for its TTL is gone: drop it and its LRU record together.
local function purge_expired()
  local expired
  if has_deadlines then
    local past = '(' .. int(now)
    expired = redis.call('ZRANGEBYSCORE', deadlines, '-inf', past)
    if #expired == 0 then return end
    redis.call('ZREMRANGEBYSCORE', deadlines, '-inf', past)
    call_chunked('ZREM', lru, expired, 1, #expired)
    has_deadlines = redis.call('EXISTS', deadlines) == 1
  else
    local cutoff = '(' .. int(now - ttl_ms * 1000)
    expired = redis.call('ZRANGEBYSCORE', lru, '-inf', cutoff)
    if #expired == 0 then return end
    redis.call('ZREMRANGEBYSCORE', lru, '-inf', cutoff)
  end
  call_chunked('HDEL', vectors, expired, 1, #expired)
end

-- The keys live as long as the entry that lives longest: the TTL from this
-- access, or with deadlines the latest one.
local function touch_keys()
  local ms = ttl_arg
  if has_deadlines then
    local latest = redis.call('ZRANGE', deadlines, '-1', '-1', 'WITHSCORES')
    ms = latest[2] and int(math.max(1, math.ceil((tonumber(latest[2]) - now) / 1000))) or ms
    redis.call('PEXPIRE', deadlines, ms)
  end
  redis.call('PEXPIRE', vectors, ms)
  redis.call('PEXPIRE', lru, ms)
end

-- The score of each of `fields` in `zset` (a number, or false), asked in
-- chunks: unpack() is limited by the Lua stack.
local function scores_of(zset, fields)
  local scores = {}
  for i = 1, #fields, 1000 do
    local reply = redis.call('ZMSCORE', zset, unpack(fields, i, math.min(i + 999, #fields)))
    for j = 1, #reply do scores[i + j - 1] = reply[j] and tonumber(reply[j]) end
  end
  return scores
end

-- Moves the deadlines of the entries in `scored` (new LRU score, field pairs)
-- along with their last access: each keeps its own TTL, the time from its last
-- access to its deadline before this one. Call it before the LRU moves.
local function slide_deadlines(scored)
  local fields = {}
  for i = 2, #scored, 2 do fields[#fields + 1] = scored[i] end
  local last, due = scores_of(lru, fields), scores_of(deadlines, fields)
  local moved = {}
  for i, field in ipairs(fields) do
    local own_us = (last[i] and due[i]) and (due[i] - last[i]) or ttl_ms * 1000
    moved[#moved + 1] = int(tonumber(scored[2 * i - 1]) + own_us)
    moved[#moved + 1] = field
  end
  call_chunked('ZADD', deadlines, moved, 1, #moved)
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
    if has_deadlines then slide_deadlines(touched) end
    call_chunked('ZADD', lru, touched, 1, #touched)
    touch_keys()
  end
  if #missing > 0 then call_chunked('ZREM', lru, missing, 1, #missing) end
  return #touched / 2
end
