-- A leader's renewal, while it runs: its lock, its live stream and the tenant's fence live on.
-- KEYS[1] the lock HASH, KEYS[2] the tenant's fence STRING, KEYS[3] the live STREAM. ARGV[1] the lock's owner,
-- ARGV[2] the lease in ms, ARGV[3] the fence's TTL in ms, ARGV[4] the stream's TTL in ms.
-- Returns the number of followers the lock has had, or -1 when it is no longer this leader's.
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return -1 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return tonumber(redis.call('HGET', KEYS[1], 'followers') or '0')
