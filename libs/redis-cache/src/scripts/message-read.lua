-- Keeps a conversation's bookkeeping on a read: refreshes its recency and TTL.
-- The caller reads the list itself with a native LRANGE, sent right after this
-- script in the same round trip: a list passed through Lua is copied twice,
-- which costs Redis more than the whole bookkeeping (bench/script-cost.js).
-- ARGV[6] a lease token to take on a miss ('' = none), ARGV[7] lease TTL in ms.
-- Returns {1, the number of messages, evicted, dropped} on a hit. On a miss,
-- returns {0, the token of the lease now held ('' if none), evicted, dropped},
-- after taking the lease if it was free: a caller that sees its own token may
-- fill; one that sees the same token twice knows that no write came in
-- between, since every write deletes the lease.
local token, lease_ms = ARGV[6], ARGV[7]
reconcile()
purge_expired()
local size = cached_size()
if not size then
  keep_bucket()
  if token == '' then return { 0, '', evicted, dropped } end
  local holder = redis.call('GET', lease)
  if holder then return { 0, holder, evicted, dropped } end
  redis.call('SET', lease, token, 'PX', lease_ms)
  return { 0, token, evicted, dropped }
end
touch()
return { 1, size, evicted, dropped }
