-- Removes every response of a tenant and moves its generation on, so that no call in flight stores what it
-- started before the clear, and no later call follows one. ARGV[1] the fence's TTL in ms. Returns the generation.
redis.call('DEL', entries, lru, deadlines)
local gen = redis.call('INCR', fence)
redis.call('PEXPIRE', fence, ARGV[1])
return gen
