-- Nodes holding a lease. ARGV: P.
local live = {}
for _, node in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  if redis.call('EXISTS', P .. 'lease:' .. node) == 1 then live[#live + 1] = node end
end
return live
