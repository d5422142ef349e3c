-- Appends to a cached conversation; never creates one. Any write invalidates a
-- pending fill lease, so a fill loaded before this write is refused.
-- ARGV[6] n, then n message ids ('' = none), then n JSON messages.
-- Messages whose id is already cached are skipped.
-- Returns {status, evicted, dropped}: status 1 appended, -1 not cached
-- (nothing written), -2 it would exceed the budget (it is then dropped).
local n = tonumber(ARGV[6])
reconcile()
purge_expired()
redis.call('DEL', lease)
local size = cached_size()
if not size then
  keep_bucket()
  return { -1, evicted, dropped }
end
-- one SMISMEMBER asks for the marker (is the id SET there?) and every id
local asked = { IDS_MARKER }
for i = 1, n do
  if ARGV[6 + i] ~= '' then asked[#asked + 1] = ARGV[6 + i] end
end
local cached = members(ids, asked)
if not cached[1] then
  -- the id SET was lost: a retried message would be appended twice, so drop
  -- the conversation; the next read fills it afresh
  forget(conversation)
  dropped = dropped + 1
  keep_bucket()
  return { -1, evicted, dropped }
end
local fresh, fresh_ids, seen = {}, {}, {}
local answer = 1
for i = 1, n do
  local id = ARGV[6 + i]
  local duplicate = false
  if id ~= '' then
    answer = answer + 1
    duplicate = seen[id] or cached[answer]
  end
  if not duplicate then
    fresh[#fresh + 1] = ARGV[6 + n + i]
    if id ~= '' then
      seen[id] = true
      fresh_ids[#fresh_ids + 1] = id
    end
  end
end
local k = #fresh
local total -- the bucket's new total, if this append changes it
if k > 0 then
  if size + k > budget then
    forget(conversation)
    dropped = dropped + 1
    keep_bucket()
    return { -2, evicted, dropped }
  end
  -- never evicts this conversation, so its list is still there, header first
  total = make_room(k, conversation) + k
  call_chunked('RPUSH', messages, fresh, 1, k)
  call_chunked('SADD', ids, fresh_ids, 1, #fresh_ids)
  redis.call('HINCRBY', sizes, conversation, int(k))
end
touch(nil, total)
return { 1, evicted, dropped }
