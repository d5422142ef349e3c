-- Removes a conversation and invalidates any pending fill lease.
forget(conversation)
redis.call('DEL', lease)
return 1
