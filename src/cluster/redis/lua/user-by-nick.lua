-- ARGV: P, nick segment. Returns the user's HGETALL, or an empty list.
local uid = redis.call('GET', P .. 'nick:' .. ARGV[2])
if not uid then return {} end
local fields = redis.call('HGETALL', P .. 'u:' .. uid)
fields[#fields + 1] = 'uid'
fields[#fields + 1] = uid
return fields
