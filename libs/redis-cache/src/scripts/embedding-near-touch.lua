-- The near cache's bookkeeping (embeddings/near-cache/): what embedding-touch
-- does (each present field made the most recently used, its deadline moved with
-- it, the LRU record of each absent one dropped), and how long Redis now keeps
-- each field, so that the near cache keeps its copy no longer. Sent alone for the
-- touches of near hits, or followed by a native HMGET in the same round trip for
-- a read that missed the near cache.
-- ARGV[2..] entry fields. Returns the server's time in µs (where a computation of
-- the misses begins, embedding-set), then for each field the ms from now to its
-- expiry, or 0 when it is absent.
purge_expired()
local fields, found = {}, {}
for i = 2, #ARGV do
  fields[i - 1] = ARGV[i]
  found[i - 1] = redis.call('HEXISTS', vectors, ARGV[i]) == 1
end
record_reads(found)
local due = has_deadlines and scores_of(deadlines, fields) or {}
local reply = { int(now) }
for i = 1, #fields do
  local ms = 0
  if found[i] then ms = due[i] and math.floor((due[i] - now) / 1000) or ttl_ms end
  reply[i + 1] = ms
end
return reply
