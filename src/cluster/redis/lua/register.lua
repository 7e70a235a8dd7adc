-- A node joins: takes its lease (NX: an id in use, or one being reaped, is refused) and is
-- listed in `nodes` for peers to sweep. Also creates the network's epoch, which tells a node
-- after a reconnect whether Redis kept its data.
-- ARGV: P, NODE, TOKEN, ttl ms, epoch candidate. Returns { 1|0, epoch }.
redis.call('SET', P .. 'epoch', ARGV[5], 'NX')
local epoch = redis.call('GET', P .. 'epoch')
if redis.call('EXISTS', P .. 'reap:' .. NODE) == 1 or redis.call('SISMEMBER', P .. 'nodes', NODE) == 1 then
  return { 0, epoch }
end
if not redis.call('SET', P .. 'lease:' .. NODE, TOKEN, 'NX', 'PX', ARGV[4]) then return { 0, epoch } end
redis.call('SADD', P .. 'nodes', NODE)
return { 1, epoch }
