-- A user's rooms as WHOIS shows them, read together. ARGV: P, uid.
-- Returns { name, flags, modes, ... } per room (a room gone meanwhile is left out).
local uid = ARGV[2]
local out = {}
for _, seg in ipairs(redis.call('SMEMBERS', P .. 'u:rooms:' .. uid)) do
  local f = redis.call('HMGET', P .. 'r:state:' .. seg, 'name', 'modes')
  local flags = redis.call('HGET', P .. 'r:members:' .. seg, uid)
  if f[1] and flags then
    out[#out + 1] = f[1]
    out[#out + 1] = tonumber(flags)
    out[#out + 1] = f[2] or ''
  end
end
return out
