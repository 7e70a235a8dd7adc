-- One more connection from an address on this node, unless the network-wide count is at the
-- limit. Counts are a hash of node -> count, so a reaped node's share goes with it.
-- ARGV: P, NODE, TOKEN, address segment, limit ('' none). Returns { 1|0, count }.
local denied = fence()
if denied then return denied end
local counts = P .. 'addr:' .. ARGV[4]
local total = 0
for _, n in ipairs(redis.call('HVALS', counts)) do total = total + tonumber(n) end
if ARGV[5] ~= '' and total >= tonumber(ARGV[5]) then return { 0, total } end
redis.call('HINCRBY', counts, NODE, 1)
redis.call('SADD', P .. 'n:addrs:' .. NODE, ARGV[4])
return { 1, total + 1 }
