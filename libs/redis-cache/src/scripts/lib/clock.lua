-- Shared by every script. Scores are microseconds of the server clock, made
-- strictly increasing per sorted set so that LRU order is exact even when
-- several operations land in the same microsecond.
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local function next_score(zset, now)
  local top = redis.call('ZRANGE', zset, '-1', '-1', 'WITHSCORES')
  if top[2] then
    local last = tonumber(top[2])
    if last >= now then return last + 1 end
  end
  return now
end

-- A whole number as its decimal digits, rounded to the nearest: Lua's tostring
-- keeps 14 digits, and a microsecond timestamp needs 16. '%d' (a C long here)
-- formats it exactly, and several times faster than '%.0f'. Every number a
-- script passes to redis.call goes through here or is written as a string:
-- Redis formats a Lua number argument as a float ('%.17g'), which cost an
-- append more than a tenth of its instructions (bench/script-instructions.js).
local function int(n)
  -- from 2^52 up every float is whole, and adding 0.5 would round to even
  if n % 1 ~= 0 then n = math.floor(n + 0.5) end
  return string.format('%d', n)
end

-- unpack() is limited by the Lua stack, so long argument lists go in chunks.
local function call_chunked(command, key, items, first, last)
  local step = 1000
  for i = first, last, step do
    redis.call(command, key, unpack(items, i, math.min(i + step - 1, last)))
  end
end

-- Gives every member of an LRU a deadline, its last access plus `ttl_ms`: done
-- once, by the first write with a TTL of its own, after which the deadlines
-- alone say when members expire.
local function start_deadlines_of(lru, deadlines, ttl_ms)
  local entries = redis.call('ZRANGE', lru, '0', '-1', 'WITHSCORES')
  local due = {}
  for i = 1, #entries, 2 do
    due[#due + 1] = int(tonumber(entries[i + 1]) + ttl_ms * 1000)
    due[#due + 1] = entries[i]
  end
  if #due > 0 then call_chunked('ZADD', deadlines, due, 1, #due) end
end
