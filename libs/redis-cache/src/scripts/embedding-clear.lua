-- Removes every entry of one user, and tells the near caches. Returns the number
-- of keys deleted. With a fourth key (the user's `clr`), it also records when, for
-- the TTL: a computation begun before then writes nothing (embedding-set).
local deleted = redis.call('DEL', vectors, lru, deadlines)
if KEYS[4] then redis.call('SET', KEYS[4], int(now), 'PX', ttl_arg) end
announce()
return deleted
