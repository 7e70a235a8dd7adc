-- Records a user of this node and claims its nick in one step: the SET NX is the whole race.
-- ARGV: P, NODE, TOKEN, uid, nick segment, record as JSON ({ nick, user, ... }; null fields left out).
-- Returns { 1 } or { 0, holder uid }.
local denied = fence()
if denied then return denied end
local uid, nk = ARGV[4], ARGV[5]
if redis.call('EXISTS', P .. 'u:' .. uid) == 1 then return { 0, uid } end
if not redis.call('SET', P .. 'nick:' .. nk, uid, 'NX') then
  return { 0, redis.call('GET', P .. 'nick:' .. nk) }
end
local fields = { 'node', NODE, 'nk', nk }
for k, v in pairs(cjson.decode(ARGV[6])) do
  if v ~= cjson.null and k ~= 'node' and k ~= 'nk' and k ~= 'uid' then
    fields[#fields + 1] = k
    fields[#fields + 1] = tostring(v)
  end
end
redis.call('HSET', P .. 'u:' .. uid, unpack(fields))
redis.call('SADD', P .. 'n:users:' .. NODE, uid)
redis.call('ZADD', P .. 'users', 0, uid)
index_modes(uid, redis.call('HGET', P .. 'u:' .. uid, 'modes') or '')
return { 1 }
