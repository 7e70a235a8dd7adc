-- One batch of a dead node's clean-up, by the node holding its reap claim: up to `batch` of
-- its users are removed, each one's QUIT sequenced into each of its rooms in this same step
-- (so no member misses it, even if the reaper dies next). When none are left, its connection
-- counts are released and it is forgotten (the claim stays until it expires: no second reap).
-- ARGV: P, NODE, TOKEN, dead, batch, claim ms, reason, msgid suffix, epoch candidate, maxlen.
-- Returns { done (0|1|-1 when not our claim), { uid, nick, user, host, realname, account or '',
--   seg, seq, time, msgid, epoch, ... }, ... }: who each was (for WHOWAS), then its QUITs' stamps.
local denied = fence()
if denied then return denied end
local dead, claim = ARGV[4], P .. 'reap:' .. ARGV[4]
if redis.call('GET', claim) ~= NODE then return { -1 } end
redis.call('PEXPIRE', claim, ARGV[6])
local out = { 0 }
local uids = redis.call('SPOP', P .. 'n:users:' .. dead, tonumber(ARGV[5]))
table.sort(uids)
for i, uid in ipairs(uids) do
  local f = redis.call('HMGET', P .. 'u:' .. uid, 'nick', 'user', 'host', 'realname', 'account')
  local nick = f[1]
  if nick then
    local user = { uid, nick, f[2] or '', f[3] or '', f[4] or '', f[5] or '' }
    local payload = cjson.encode({ v = 1, kind = 'quit', origin = NODE, uid = uid, nick = nick, reason = ARGV[7] })
    announce_rooms(user, uid, payload, ARGV[8] .. '-' .. i, ARGV[9], ARGV[10])
    drop_user(uid)
    out[#out + 1] = user
  end
end
if redis.call('SCARD', P .. 'n:users:' .. dead) == 0 then
  for _, aseg in ipairs(redis.call('SMEMBERS', P .. 'n:addrs:' .. dead)) do
    local counts = P .. 'addr:' .. aseg
    redis.call('HDEL', counts, dead)
  end
  redis.call('DEL', P .. 'n:addrs:' .. dead, P .. 'n:users:' .. dead)
  redis.call('SREM', P .. 'nodes', dead)
  out[1] = 1
end
return out
