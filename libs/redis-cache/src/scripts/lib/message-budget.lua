-- KEYS[1] the conversation LIST, KEYS[2] its id SET, KEYS[3] its lease,
-- KEYS[4] the bucket's LRU ZSET, KEYS[5] its sizes HASH, KEYS[6] its total.
-- ARGV[1] conversation id, ARGV[2] TTL in ms, ARGV[3] the bucket's budget,
-- ARGV[4] / ARGV[5] the prefixes of other conversations' LIST / id SET keys.
local messages, ids, lease, lru, sizes, total_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local conversation = ARGV[1]
local ttl_ms = tonumber(ARGV[2])
local budget = tonumber(ARGV[3])
local messages_prefix, ids_prefix = ARGV[4], ARGV[5]
local now = now_us()
local evicted = 0

-- The first element of every cached conversation, so that an empty
-- conversation still exists as a one-element list.
local HEADER = 'wbot:conversation:v1'

-- A member of every cached conversation's id SET (no message id is empty), so
-- that the SET exists even when no message has an id, and its loss shows.
local IDS_MARKER = ''

local function get_total()
  local total = redis.call('GET', total_key)
  if total then return tonumber(total) end
  -- the counter was lost (e.g. to maxmemory eviction): rebuild it from the sizes
  local sum = 0
  for _, size in ipairs(redis.call('HVALS', sizes)) do sum = sum + tonumber(size) end
  if sum > 0 then redis.call('SET', total_key, sum, 'PX', ttl_ms) end
  return sum
end

-- Removes a conversation and its share of the count, wherever it stands.
local function forget(id)
  local size = tonumber(redis.call('HGET', sizes, id) or '0')
  -- DECRBY on a lost counter would create a negative one without a TTL; a lost
  -- counter is rebuilt from the sizes instead, once this entry is gone from them
  if size > 0 and redis.call('EXISTS', total_key) == 1 then redis.call('DECRBY', total_key, size) end
  redis.call('HDEL', sizes, id)
  redis.call('ZREM', lru, id)
  redis.call('DEL', messages_prefix .. id, ids_prefix .. id)
end

-- Counts with no LRU record can't be evicted (their LRU ZSET was lost, e.g. to
-- maxmemory eviction): drop those conversations so the budget is exact again.
local function forget_untracked()
  for _, id in ipairs(redis.call('HKEYS', sizes)) do
    if not redis.call('ZSCORE', lru, id) then forget(id) end
  end
end

-- The sizes HASH holds a field (0 for an empty conversation) for every tracked
-- conversation, so an LRU with members and no sizes means the HASH was lost
-- (e.g. to maxmemory eviction), perhaps with the total: rebuild both from the
-- lists themselves, dropping LRU records whose list is gone. Costs one EXISTS
-- per call while nothing is lost.
local function repair_lost_sizes()
  if redis.call('EXISTS', sizes) == 1 or redis.call('ZCARD', lru) == 0 then return end
  local sum = 0
  for _, id in ipairs(redis.call('ZRANGE', lru, 0, -1)) do
    local size = redis.call('LLEN', messages_prefix .. id) - 1
    if size < 0 then
      redis.call('ZREM', lru, id)
    else
      redis.call('HSET', sizes, id, size)
      sum = sum + size
    end
  end
  redis.call('DEL', total_key)
  if sum > 0 then redis.call('SET', total_key, sum, 'PX', ttl_ms) end
end

-- Conversations idle for the TTL have expired (or are about to): purge their
-- counts so that the budget never holds phantoms. Bounded per call.
local function purge_expired()
  local cutoff = '(' .. int(now - ttl_ms * 1000)
  local expired = redis.call('ZRANGEBYSCORE', lru, '-inf', cutoff, 'LIMIT', 0, 256)
  for _, id in ipairs(expired) do forget(id) end
end

-- Evicts whole conversations, least recently accessed first, never `keep`,
-- until `incoming` more messages fit in the budget.
-- The callers have checked that `keep` and `incoming` alone fit in the budget,
-- so running out of victims means the counts went wrong (the LRU or the total
-- was lost or damaged): they are rebuilt from what is tracked, once.
local function make_room(incoming, keep)
  local total = get_total()
  local rebuilt = false
  while total + incoming > budget do
    local oldest = redis.call('ZRANGE', lru, 0, 1)
    local victim = oldest[1]
    if victim == keep then victim = oldest[2] end
    if victim then
      forget(victim)
      evicted = evicted + 1
    elseif rebuilt then
      break
    else
      forget_untracked()
      redis.call('DEL', total_key)
      rebuilt = true
    end
    total = get_total()
  end
end

-- Makes the conversation the most recently used and refreshes every TTL.
local function touch()
  redis.call('ZADD', lru, int(next_score(lru, now)), conversation)
  for _, key in ipairs({ messages, ids, lru, sizes, total_key }) do
    redis.call('PEXPIRE', key, ttl_ms)
  end
end

-- A conversation whose list is cached is counted and tracked; one that was
-- neither (its LRU and sizes were lost together) is counted again here, and
-- room is made for it, before anything else counts on its size.
local function is_cached()
  if redis.call('EXISTS', messages) == 0 then
    -- bookkeeping for a list that expired or was evicted by Redis itself
    forget(conversation)
    return false
  end
  if not redis.call('HGET', sizes, conversation) then
    local size = redis.call('LLEN', messages) - 1
    -- with the sizes gone, the total is only a stale sum: recount what is tracked
    if redis.call('EXISTS', sizes) == 0 then redis.call('DEL', total_key) end
    local total = get_total()
    redis.call('HSET', sizes, conversation, size)
    redis.call('SET', total_key, total + size, 'PX', ttl_ms)
    redis.call('ZADD', lru, int(next_score(lru, now)), conversation)
    make_room(0, conversation)
  end
  return true
end
