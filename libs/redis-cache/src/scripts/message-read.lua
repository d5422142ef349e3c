-- Reads a conversation and refreshes its recency and TTL.
-- ARGV[6] how many of the last messages to return (0 = all),
-- ARGV[7] a lease token to take on a miss ('' = none), ARGV[8] lease TTL in ms.
-- Returns {1, the JSON messages, evicted, dropped} on a hit (joined in Node,
-- where it is cheaper than building one string in Lua, which blocks Redis). On a
-- miss, returns {0, the token of the lease now held ('' if none), evicted,
-- dropped}, after taking the lease if it was free: a caller that sees its own
-- token may fill; one that sees the same token twice knows that no write came
-- in between, since every write deletes the lease.
local last = tonumber(ARGV[6])
local token, lease_ms = ARGV[7], ARGV[8]
reconcile()
purge_expired()
if not cached_size() then
  keep_bucket()
  if token == '' then return { 0, '', evicted, dropped } end
  local holder = redis.call('GET', lease)
  if holder then return { 0, holder, evicted, dropped } end
  redis.call('SET', lease, token, 'PX', lease_ms)
  return { 0, token, evicted, dropped }
end
touch()
local first = 1
if last > 0 then
  first = math.max(1, redis.call('LLEN', messages) - last)
end
return { 1, redis.call('LRANGE', messages, first, -1), evicted, dropped }
