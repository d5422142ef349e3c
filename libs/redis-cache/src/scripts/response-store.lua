-- Stores a response, unless the tenant was cleared since the call that made it started.
-- ARGV[1] the field, ARGV[2] the generation the call started in ('*': not fenced), ARGV[3] the TTL in ms,
-- ARGV[4] the most entries per tenant, ARGV[5] the response.
-- Returns {1, evicted} once stored, {-1, 0} when fenced out by a clear.
if ARGV[2] ~= '*' and generation() ~= ARGV[2] then return {-1, 0} end
return {1, store_entry(ARGV[1], ARGV[5], tonumber(ARGV[3]), tonumber(ARGV[4]))}
