-- JOIN, decided in one step: compare-and-set on the room's version (the caller checked key,
-- +i, invites and bans against that version), the member limit counted here, creation of an
-- absent room with its creator's flags, fields deleted (the invitation used up: version + 1
-- when one existed, sequenced with the new version), and the JOIN sequenced into the room's log.
-- ARGV: P, NODE, TOKEN, seg, uid, flags, expect ('' no check | 'none' no room | version),
--   create JSON ('' | { fields = {...}, flags = n }), ignore limit ('0'|'1'), display name,
--   payload ('' for none), msgid suffix, epoch candidate, maxlen, del JSON array.
-- Returns { 'ok', created, version, count, flags[, seq, time, msgid, epoch] } or { reason, ... }
-- ({ 'renamed', new name } for the old name of a room renamed lately).
local denied = fence()
if denied then return denied end
local seg, uid = ARGV[4], ARGV[5]
local state, members = P .. 'r:state:' .. seg, P .. 'r:members:' .. seg
local version = redis.call('HGET', state, '_v')
if ARGV[7] ~= '' and (version or 'none') ~= ARGV[7] then
  return { 'stale', snapshot(seg) }
end
local created, flags = 0, ARGV[6]
if not version then
  -- The name of a room renamed lately: no new room takes it while it redirects.
  local moved = redis.call('HGET', P .. 'r:renamed:' .. seg, 'name')
  if moved then return { 'renamed', moved } end
  if ARGV[8] == '' then return { 'absent' } end
  local create = cjson.decode(ARGV[8])
  local fields = { '_v', 1, 'name', ARGV[10] }
  for k, v in pairs(create.fields) do
    if k ~= '_v' and k ~= 'name' then
      fields[#fields + 1] = k
      fields[#fields + 1] = tostring(v)
    end
  end
  redis.call('HSET', state, unpack(fields))
  redis.call('ZADD', P .. 'rooms', 0, seg)
  created, flags, version = 1, tostring(create.flags), '1'
else
  if redis.call('HEXISTS', members, uid) == 1 then return { 'already-member' } end
  local limit = redis.call('HGET', state, 'limit')
  local count = redis.call('HLEN', members)
  if limit and ARGV[9] ~= '1' and count >= tonumber(limit) then return { 'full', count } end
end
redis.call('HSET', members, uid, flags)
redis.call('SADD', P .. 'u:rooms:' .. uid, seg)
redis.call('PERSIST', P .. 'r:log:' .. seg)
redis.call('PERSIST', P .. 'r:seq:' .. seg)
local deleted = 0
for _, k in ipairs(cjson.decode(ARGV[15])) do
  if k ~= '_v' and k ~= 'name' then deleted = deleted + redis.call('HDEL', state, k) end
end
local bumped = nil
if deleted > 0 then
  bumped = redis.call('HINCRBY', state, '_v', 1)
  version = tostring(bumped)
end
local out = { 'ok', created, tonumber(version), redis.call('HLEN', members), tonumber(flags) }
if ARGV[11] ~= '' then push_stamp(out, sequence('r', seg, ARGV[11], ARGV[12], ARGV[13], ARGV[14], bumped)) end
return out
