-- RENAME (draft/channel-rename) in one step: the actor's flags, the new name free (no room,
-- no redirect to another room), fields set, the display name and version + 1, the event
-- sequenced into the old name's log while the members are still there, then state, members,
-- the members' room lists and the listing moved to the new name, the old log left to expire
-- as an emptied room's does, and the old name redirecting to the new one for a while.
-- A change of case keeps everything where it is but the display name.
-- The event gets the new name's log position (`after`) appended to its JSON: the payload is
-- an object serialised by JSON.stringify, so it ends with '}' and has no `after` key.
-- ARGV: P, NODE, TOKEN, old seg, new seg, new display name, actor uid, actor flags, set JSON
--   object, redirect seconds, payload, msgid suffix, epoch candidate, maxlen.
-- Returns { 'ok', version, after, seq, time, msgid, epoch } or { reason }.
local denied = fence()
if denied then return denied end
local old, new = ARGV[4], ARGV[5]
local state = P .. 'r:state:' .. old
if redis.call('EXISTS', state) == 0 then return { 'absent' } end
if not allowed(old, ARGV[7], ARGV[8]) then return { 'not-allowed' } end
local moved = new ~= old
if moved then
  if redis.call('EXISTS', P .. 'r:state:' .. new) == 1 then return { 'in-use' } end
  local pointing = redis.call('HGET', P .. 'r:renamed:' .. new, 'seg')
  if pointing and pointing ~= old then return { 'in-use' } end
end
for k, v in pairs(cjson.decode(ARGV[9])) do
  if k ~= '_v' and k ~= 'name' then redis.call('HSET', state, k, tostring(v)) end
end
redis.call('HSET', state, 'name', ARGV[6])
local v = redis.call('HINCRBY', state, '_v', 1)
local after = 0
local payload = ARGV[11]
if moved then
  after = tonumber(redis.call('HGET', P .. 'r:seq:' .. new, 'seq') or '0')
  payload = string.sub(payload, 1, -2) .. ',"after":' .. after .. '}'
end
local stamp = sequence('r', old, payload, ARGV[12], ARGV[13], ARGV[14], v)
if moved then
  local members = P .. 'r:members:' .. old
  for _, uid in ipairs(redis.call('HKEYS', members)) do
    redis.call('SREM', P .. 'u:rooms:' .. uid, old)
    redis.call('SADD', P .. 'u:rooms:' .. uid, new)
  end
  redis.call('RENAME', state, P .. 'r:state:' .. new)
  redis.call('RENAME', members, P .. 'r:members:' .. new)
  redis.call('ZREM', P .. 'rooms', old)
  redis.call('ZADD', P .. 'rooms', 0, new)
  redis.call('EXPIRE', P .. 'r:log:' .. old, 86400)
  redis.call('EXPIRE', P .. 'r:seq:' .. old, 86400)
  redis.call('PERSIST', P .. 'r:log:' .. new)
  redis.call('PERSIST', P .. 'r:seq:' .. new)
  redis.call('DEL', P .. 'r:renamed:' .. new)
  local seconds = tonumber(ARGV[10])
  if seconds > 0 then
    local back = P .. 'r:renamed:' .. old
    redis.call('HSET', back, 'name', ARGV[6], 'seg', new)
    redis.call('EXPIRE', back, seconds)
  end
end
local out = { 'ok', v, after }
push_stamp(out, stamp)
return out
