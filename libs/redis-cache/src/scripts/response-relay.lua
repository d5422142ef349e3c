-- Appends parts of a leader's response to its live stream, for its followers, and keeps the stream alive.
-- KEYS[1] the live STREAM. ARGV[1] the stream's TTL in ms, ARGV[2] the entry's sequence number, ARGV[3] the
-- parts, each encoded, one per line.
redis.call('XADD', KEYS[1], '*', 'n', ARGV[2], 'p', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
