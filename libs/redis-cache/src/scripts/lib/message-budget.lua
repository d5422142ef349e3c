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

local function is_cached()
  if redis.call('EXISTS', messages) == 1 then return true end
  -- bookkeeping for a list that expired or was evicted by Redis itself
  forget(conversation)
  return false
end
