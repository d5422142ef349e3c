-- Looks a response up; on a miss, decides who asks the model for it: the call holding the field's lock, which
-- this one then follows, or this call, which takes the lock. A lock taken before the tenant's last clear is not
-- followed: what it answers is fenced out.
-- KEYS[5] the field's lock HASH. ARGV[1] the field, ARGV[2] this call's token, ARGV[3] the lease in ms,
-- ARGV[4] 'read' (neither follows nor locks), 'follow' (follows a lock, takes none) or 'lead' (follows or locks).
-- Returns {1, response} on a hit; {2, owner} to follow the lock's owner ('<generation>:<token>');
-- {3, generation} when this call took the lock; {0, generation} on a miss that does neither.
local field, token, lease_ms, mode = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local lock = KEYS[5]
purge_expired()
local value = redis.call('HGET', entries, field)
if value then
  redis.call('ZADD', lru, int(next_score(lru, now)), field)
  return {1, value}
end
local gen = generation()
if mode == 'read' then return {0, gen} end
local owner = redis.call('HGET', lock, 'owner')
if owner and string.sub(owner, 1, #gen + 1) == gen .. ':' then
  redis.call('HINCRBY', lock, 'followers', 1)
  return {2, owner}
end
if mode == 'follow' then return {0, gen} end
redis.call('DEL', lock)
redis.call('HSET', lock, 'owner', gen .. ':' .. token, 'followers', '0')
redis.call('PEXPIRE', lock, lease_ms)
return {3, gen}
