-- Removes every entry of one user. Returns the number of keys deleted.
return redis.call('DEL', vectors, lru, deadlines)
