-- Atomic rename: the new nick claimed and the old freed, or nothing; then the announcement
-- into each of the user's rooms. ARGV: P, NODE, TOKEN, uid, new nick segment, nick,
-- payload ('' for none), msgid suffix, epoch candidate, maxlen.
-- Returns { 'ok', seg, seq, time, msgid, epoch, ... } or { reason[, holder] }.
local denied = fence()
if denied then return denied end
local uid, nk = ARGV[4], ARGV[5]
local user = redis.call('HMGET', P .. 'u:' .. uid, 'node', 'nk')
if not user[1] then return { 'no-such-user' } end
if user[1] ~= NODE then return { 'not-owner' } end
if nk ~= user[2] then
  if not redis.call('SET', P .. 'nick:' .. nk, uid, 'NX') then
    return { 'in-use', redis.call('GET', P .. 'nick:' .. nk) }
  end
  if redis.call('GET', P .. 'nick:' .. user[2]) == uid then redis.call('DEL', P .. 'nick:' .. user[2]) end
end
redis.call('HSET', P .. 'u:' .. uid, 'nick', ARGV[6], 'nk', nk)
local out = { 'ok' }
if ARGV[7] ~= '' then announce_rooms(out, uid, ARGV[7], ARGV[8], ARGV[9], ARGV[10]) end
return out
