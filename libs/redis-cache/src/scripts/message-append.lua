-- Appends to a cached conversation; never creates one. Any write invalidates a
-- pending fill lease, so a fill loaded before this write is refused.
-- ARGV[6] n, then n message ids ('' = none), then n JSON messages.
-- Messages whose id is already cached are skipped.
-- Returns the number of conversations evicted, -1 if the conversation is not
-- cached, -2 if it would exceed the budget (it is then dropped).
local n = tonumber(ARGV[6])
repair_lost_sizes()
purge_expired()
redis.call('DEL', lease)
if not is_cached() then return -1 end
if redis.call('EXISTS', ids) == 0 then
  -- the id SET was lost (e.g. to maxmemory eviction): a retried message would
  -- be appended twice, so drop the conversation; the next read fills it afresh
  forget(conversation)
  return -1
end
local fresh, fresh_ids, seen = {}, {}, {}
for i = 1, n do
  local id = ARGV[6 + i]
  local duplicate = id ~= '' and (seen[id] or redis.call('SISMEMBER', ids, id) == 1)
  if not duplicate then
    fresh[#fresh + 1] = ARGV[6 + n + i]
    if id ~= '' then
      seen[id] = true
      fresh_ids[#fresh_ids + 1] = id
    end
  end
end
local k = #fresh
if k > 0 then
  local size = redis.call('LLEN', messages) - 1
  if size + k > budget then
    forget(conversation)
    return -2
  end
  make_room(k, conversation)
  call_chunked('RPUSH', messages, fresh, 1, k)
  call_chunked('SADD', ids, fresh_ids, 1, #fresh_ids)
  redis.call('HINCRBY', sizes, conversation, k)
  redis.call('INCRBY', total_key, k)
end
touch()
return evicted
