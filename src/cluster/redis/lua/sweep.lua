-- Finds listed nodes without a lease and claims the clean-up of each (SET reap:<node> NX: one
-- winner; a claim that is this node's own is kept, one that expired can be taken).
-- ARGV: P, NODE, TOKEN, claim ms. Returns the nodes this node is to reap.
local denied = fence()
if denied then return denied end
local won = {}
for _, node in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  if node ~= NODE and redis.call('EXISTS', P .. 'lease:' .. node) == 0 then
    local claim = P .. 'reap:' .. node
    if redis.call('SET', claim, NODE, 'NX', 'PX', ARGV[4]) or redis.call('GET', claim) == NODE then
      won[#won + 1] = node
    end
  end
end
return won
