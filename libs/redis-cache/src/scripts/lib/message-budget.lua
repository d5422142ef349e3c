-- KEYS[1] the conversation LIST, KEYS[2] its id SET, KEYS[3] its lease,
-- KEYS[4] the bucket's LRU ZSET, KEYS[5] its sizes HASH, KEYS[6] its total,
-- KEYS[7] its deadlines ZSET.
-- ARGV[1] conversation id, ARGV[2] TTL in ms, ARGV[3] the bucket's budget,
-- ARGV[4] / ARGV[5] the prefixes of other conversations' LIST / id SET keys.
local messages, ids, lease, lru, sizes, total_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local deadlines = KEYS[7]
local conversation = ARGV[1]
local ttl_arg = ARGV[2]
local ttl_ms = tonumber(ttl_arg)
local budget = tonumber(ARGV[3])
local messages_prefix, ids_prefix = ARGV[4], ARGV[5]
local now = now_us()
-- Which of the bucket's sizes, LRU and deadlines exist, in one call: EXISTS
-- counts a key once for each time it is named, so naming them once, twice and
-- four times makes the count a bit per key (1, 2 and 4). (The lease as an 8
-- would save a write its DEL, but its eight lookups cost Redis as many
-- instructions as the DEL: bench/script-instructions.js.)
local present = redis.call('EXISTS', sizes, lru, lru, deadlines, deadlines, deadlines, deadlines)
-- Once a conversation of the bucket was filled with a TTL of its own, every
-- conversation of the bucket has a deadline (its last access plus its own TTL,
-- the TTL for the others), and the deadlines alone say what has expired. Until
-- then, the TTL does, from the LRU.
local has_deadlines = present >= 4
-- What a script did to other conversations than its own, reported to the caller
-- for its counters: evicted to make room (least recently used first), and
-- dropped because they could not be kept whole or did not fit.
local evicted, dropped = 0, 0

-- The first element of every cached conversation, so that an empty
-- conversation still exists as a one-element list, and a list that lost it
-- (or never had it) is never served.
local HEADER = 'wbot:conversation:v1'

-- A member of every cached conversation's id SET (no message id is empty), so
-- that the SET exists even when no message has an id, and its loss shows.
local IDS_MARKER = ''

-- Written with its TTL, `ms` as digits (the TTL unless given).
local function set_total(sum, ms)
  redis.call('SET', total_key, int(sum), 'PX', ms or ttl_arg)
end

local function get_total()
  local total = redis.call('GET', total_key)
  if total then return tonumber(total) end
  -- the counter was lost: rebuild it from the sizes
  local sum = 0
  for _, size in ipairs(redis.call('HVALS', sizes)) do sum = sum + tonumber(size) end
  set_total(sum)
  return sum
end

-- Removes a conversation and its share of the count, wherever it stands.
local function forget(id)
  local counted = redis.call('HGET', sizes, id) or '0'
  -- DECRBY on a lost counter would create a negative one without a TTL; a lost
  -- counter is rebuilt from the sizes instead, once this entry is gone from them
  if tonumber(counted) > 0 and redis.call('EXISTS', total_key) == 1 then redis.call('DECRBY', total_key, counted) end
  redis.call('HDEL', sizes, id)
  redis.call('ZREM', lru, id)
  if has_deadlines then redis.call('ZREM', deadlines, id) end
  redis.call('DEL', messages_prefix .. id, ids_prefix .. id)
end

-- The number of messages of a list that holds a whole conversation (the header
-- first), or nil for a list that is missing or is not one.
local function whole_size(key)
  if redis.call('LINDEX', key, '0') ~= HEADER then return nil end
  return redis.call('LLEN', key) - 1
end

-- Evicts whole conversations, least recently accessed first, never `keep`,
-- until `incoming` more messages fit in the budget. The callers have checked
-- that `keep` and `incoming` alone fit, so running out of victims means the
-- total was wrong: it is recounted from the sizes, once.
local function make_room(incoming, keep)
  local total = get_total()
  local recounted = false
  while total + incoming > budget do
    local oldest = redis.call('ZRANGE', lru, '0', '1')
    local victim = oldest[1]
    if victim == keep then victim = oldest[2] end
    if victim then
      forget(victim)
      evicted = evicted + 1
    elseif recounted then
      break
    else
      redis.call('DEL', total_key)
      recounted = true
    end
    total = get_total()
  end
  return total
end

-- Redis may lose any key at any moment (maxmemory allkeys-* eviction, a stray
-- DEL). Each script first makes the bucket's bookkeeping whole again from what
-- is left, so that the budget counts every list it still names:
-- - the sizes lost: rebuilt from the lists the LRU names;
-- - the LRU lost: rebuilt from the sizes, as older than anything used after;
-- - both lost: rebuilt from the deadlines where the bucket keeps them. Without
--   them nothing names the bucket's lists any more, and no script looks for
--   them: a SCAN would walk every key of the node, the shared Redis's foreign
--   keys included. The budget starts again from 0, and the lists it lost count
--   of (orphans) are dropped when touched (cached_size) or expire.
-- Both missing is also the state of a new bucket and of one that idled out,
-- and then there is nothing to find: every script that gives a list a TTL
-- gives the bucket's bookkeeping one at least as long (keep_bucket), in the
-- same script, so no list outlives the bookkeeping that counts it.
-- A list that is not a whole conversation is dropped, and the total recounted.
-- Costs nothing while nothing is lost: the first EXISTS above told.
local function reconcile()
  local has_sizes, has_lru = present % 2 == 1, present % 4 >= 2
  if has_sizes and has_lru then return end
  local found
  if has_lru then
    found = redis.call('ZRANGE', lru, '0', '-1')
  elseif has_sizes then
    found = redis.call('HKEYS', sizes)
  elseif has_deadlines then
    found = redis.call('ZRANGE', deadlines, '0', '-1')
  else
    -- a total left from before the loss counts the orphans, which no script will count again
    redis.call('DEL', total_key)
    return
  end
  redis.call('DEL', sizes)
  local sum, score = 0, now - #found
  for _, id in ipairs(found) do
    local size = whole_size(messages_prefix .. id)
    if size then
      redis.call('HSET', sizes, id, int(size))
      if not has_lru then
        redis.call('ZADD', lru, int(score), id)
        if has_deadlines then redis.call('ZADD', deadlines, int(score + ttl_ms * 1000), id) end
      end
      score = score + 1
      sum = sum + size
    else
      if redis.call('EXISTS', messages_prefix .. id) == 1 then dropped = dropped + 1 end
      redis.call('ZREM', lru, id)
      if has_deadlines then redis.call('ZREM', deadlines, id) end
      redis.call('DEL', messages_prefix .. id, ids_prefix .. id)
    end
  end
  set_total(sum)
  make_room(0, conversation)
end

-- Conversations idle for their TTL have expired (or are about to): purge their
-- counts so that the budget never holds phantoms. Bounded per call.
local function purge_expired()
  local expired
  if has_deadlines then
    expired = redis.call('ZRANGEBYSCORE', deadlines, '-inf', '(' .. int(now), 'LIMIT', '0', '256')
  else
    local cutoff = '(' .. int(now - ttl_ms * 1000)
    expired = redis.call('ZRANGEBYSCORE', lru, '-inf', cutoff, 'LIMIT', '0', '256')
  end
  for _, id in ipairs(expired) do forget(id) end
end

-- Every bucket key a script may have created or changed keeps a TTL: the TTL,
-- or longer while a conversation's deadline is further away, so that no list
-- outlives the bookkeeping that counts it (reconcile relies on it). A script that
-- knows the bucket's new total passes it: it is then written with its TTL in
-- one SET, instead of an INCRBY and a PEXPIRE.
local function keep_bucket(total)
  local ms = ttl_arg
  if has_deadlines then
    local latest = redis.call('ZRANGE', deadlines, '-1', '-1', 'WITHSCORES')
    local longest = ttl_ms
    if latest[2] then longest = math.max(longest, math.ceil((tonumber(latest[2]) - now) / 1000)) end
    ms = int(longest)
    redis.call('PEXPIRE', deadlines, ms)
  end
  redis.call('PEXPIRE', lru, ms)
  redis.call('PEXPIRE', sizes, ms)
  if total then
    set_total(total, ms)
    return
  end
  -- the total comes back with its new TTL: a budget lowered since the last
  -- write (a smaller maxCachedMessages) then holds after this script too
  local counted = redis.call('GETEX', total_key, 'PX', ms)
  if counted and tonumber(counted) > budget then make_room(0, conversation) end
end

-- The conversation's own TTL in ms: the time from its last access to its
-- deadline, or the TTL where the bucket keeps no deadlines.
local function own_ttl_ms()
  if not has_deadlines then return ttl_ms end
  local due, last = redis.call('ZSCORE', deadlines, conversation), redis.call('ZSCORE', lru, conversation)
  if not (due and last) then return ttl_ms end
  return (tonumber(due) - tonumber(last)) / 1000
end

-- The first conversation with a TTL of its own gives every conversation of the
-- bucket a deadline: the others', their last access plus the TTL.
local function start_deadlines()
  start_deadlines_of(lru, deadlines, ttl_ms)
  has_deadlines = true
end

-- Makes the conversation the most recently used and refreshes every TTL: the
-- conversation's by `own_ms` if a fill gives one, else by the TTL it has. A
-- write passes the bucket's new `total` (see keep_bucket).
local function touch(own_ms, total)
  own_ms = own_ms or own_ttl_ms()
  if own_ms ~= ttl_ms and not has_deadlines then start_deadlines() end
  local score = next_score(lru, now)
  redis.call('ZADD', lru, int(score), conversation)
  if has_deadlines then redis.call('ZADD', deadlines, int(score + own_ms * 1000), conversation) end
  local own = own_ms == ttl_ms and ttl_arg or int(own_ms)
  redis.call('PEXPIRE', messages, own)
  redis.call('PEXPIRE', ids, own)
  keep_bucket(total)
end

-- The number of messages of the conversation if it is cached whole, else nil.
-- A counted conversation's size is its `sizes` field: every script that
-- changes a list changes that field with it, and a lost `sizes` is rebuilt
-- from the lists (reconcile), so its list needs no LLEN. Dropped instead:
-- - a list that is not a whole conversation;
-- - a list the bookkeeping does not count, an orphan of a loss (reconcile):
--   it may be stale, since a clear of the whole bucket could not name it;
-- - a conversation larger than the budget, cached under a larger one (a
--   lowered maxCachedMessages): it could not be cached now.
local function cached_size()
  local counted = redis.call('HGET', sizes, conversation)
  if not (counted and redis.call('LINDEX', messages, '0') == HEADER and tonumber(counted) <= budget) then
    if redis.call('EXISTS', messages) == 1 then dropped = dropped + 1 end
    forget(conversation)
    return nil
  end
  return tonumber(counted)
end

-- Which of `items` are members of `set` (true or false, in order), asked in
-- chunks: unpack() is limited by the Lua stack.
local function members(set, items)
  local found = {}
  for i = 1, #items, 1000 do
    local reply = redis.call('SMISMEMBER', set, unpack(items, i, math.min(i + 999, #items)))
    for j = 1, #reply do found[i + j - 1] = reply[j] == 1 end
  end
  return found
end
