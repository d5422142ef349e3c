-- Removes conversations of one bucket and makes any fill under way for them void.
-- ARGV[6] the prefix of the lease keys, ARGV[7] 'listed' or 'all', then more
-- conversations of the bucket to remove besides ARGV[1] (a batch, as the
-- settling after an outage sends); with 'all', every conversation of the bucket.
-- Returns {cleared, evicted, dropped}: cleared, how many were cached.
local leases_prefix, scope = ARGV[6], ARGV[7]
reconcile()
local targets = { conversation }
if scope == 'all' then
  for _, id in ipairs(redis.call('HKEYS', sizes)) do targets[#targets + 1] = id end
else
  for i = 8, #ARGV do targets[#targets + 1] = ARGV[i] end
end
local cleared = 0
for _, id in ipairs(targets) do
  cleared = cleared + redis.call('EXISTS', messages_prefix .. id)
  forget(id)
  redis.call('DEL', leases_prefix .. id)
end
keep_bucket()
return { cleared, evicted, dropped }
