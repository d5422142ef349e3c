-- Reads a conversation and refreshes its recency and TTL.
-- ARGV[6] how many of the last messages to return (0 = all),
-- ARGV[7] a lease token to take on a miss ('' = none), ARGV[8] lease TTL in ms.
-- Returns {1, json array} on a hit, {0, 1 or 0 for lease taken} on a miss.
local last = tonumber(ARGV[6])
local token, lease_ms = ARGV[7], ARGV[8]
purge_expired()
if not is_cached() then
  if token == '' then return { 0, 0 } end
  local taken = redis.call('SET', lease, token, 'NX', 'PX', lease_ms)
  return { 0, taken and 1 or 0 }
end
touch()
local first = 1
if last > 0 then
  first = math.max(1, redis.call('LLEN', messages) - last)
end
local items = redis.call('LRANGE', messages, first, -1)
return { 1, '[' .. table.concat(items, ',') .. ']' }
