-- What a follower reads: the log's epoch and last sequence, and entries after a position,
-- together (so a restarted log is seen with its entries). ARGV: P, kind, seg, after, count.
-- Returns { epoch or false, last, entries }.
local meta = redis.call('HMGET', P .. ARGV[2] .. ':seq:' .. ARGV[3], 'epoch', 'seq')
local entries = {}
if tonumber(ARGV[5]) > 0 then
  entries = redis.call('XRANGE', P .. ARGV[2] .. ':log:' .. ARGV[3], '(' .. ARGV[4] .. '-0', '+', 'COUNT', ARGV[5])
end
return { meta[1], tonumber(meta[2] or '0'), entries }
