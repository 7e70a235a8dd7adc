-- One connection fewer on this node. ARGV: P, NODE, TOKEN, address segment. Returns the count.
local denied = fence()
if denied then return denied end
local counts = P .. 'addr:' .. ARGV[4]
if redis.call('HEXISTS', counts, NODE) == 1 and redis.call('HINCRBY', counts, NODE, -1) <= 0 then
  redis.call('HDEL', counts, NODE)
  redis.call('SREM', P .. 'n:addrs:' .. NODE, ARGV[4])
end
local total = 0
for _, n in ipairs(redis.call('HVALS', counts)) do total = total + tonumber(n) end
return total
