-- Renews a lease that is still held. A lease that is gone is never re-created here: the node
-- is fenced ('FENCED'), unless the network's epoch is not the one the node joined (Redis lost
-- its data: 'LOST', and the node may register again).
-- ARGV: P, NODE, TOKEN, ttl ms, the epoch the node knows.
if redis.call('GET', P .. 'lease:' .. NODE) == TOKEN then
  redis.call('PEXPIRE', P .. 'lease:' .. NODE, ARGV[4])
  return 'OK'
end
if redis.call('GET', P .. 'epoch') ~= ARGV[5] then return 'LOST' end
return 'FENCED'
