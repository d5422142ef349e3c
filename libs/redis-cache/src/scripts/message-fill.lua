-- Fills or replaces a whole conversation.
-- ARGV[6] lease token ('' = unconditional), ARGV[7] the conversation's TTL in
-- ms (ARGV[2] unless the fill gives its own), ARGV[8] n, then n message ids
-- ('' = none), then n JSON messages.
-- Returns {status, evicted, dropped}: status 1 filled, -2 the conversation
-- alone exceeds the budget (not cached), -3 the lease was lost (a write came first).
local token, own_ms, n = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8])
reconcile()
purge_expired()
if token ~= '' and redis.call('GET', lease) ~= token then
  keep_bucket()
  return { -3, evicted, dropped }
end
redis.call('DEL', lease)
forget(conversation)
if n > budget then
  keep_bucket()
  return { -2, evicted, dropped }
end
local total = make_room(n, conversation) + n
redis.call('RPUSH', messages, HEADER)
local first_json = 9 + n
call_chunked('RPUSH', messages, ARGV, first_json, first_json + n - 1)
local message_ids = { IDS_MARKER }
for i = 9, 8 + n do
  if ARGV[i] ~= '' then message_ids[#message_ids + 1] = ARGV[i] end
end
call_chunked('SADD', ids, message_ids, 1, #message_ids)
redis.call('HSET', sizes, conversation, ARGV[8])
touch(own_ms, total)
return { 1, evicted, dropped }
