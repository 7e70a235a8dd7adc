-- Changes a user's details (JSON object: a null value deletes the field), then announces.
-- A change of `modes` updates the sets LUSERS counts (lib.lua index_modes) in the same step.
-- ARGV: P, NODE, TOKEN, uid, fields JSON, payload ('' for none), msgid suffix, epoch candidate, maxlen.
local denied = fence()
if denied then return denied end
local uid = ARGV[4]
local owner = redis.call('HGET', P .. 'u:' .. uid, 'node')
if not owner then return { 'no-such-user' } end
if owner ~= NODE then return { 'not-owner' } end
local changes = cjson.decode(ARGV[5])
for k, v in pairs(changes) do
  if k ~= 'node' and k ~= 'nk' and k ~= 'nick' and k ~= 'uid' then
    if v == cjson.null then redis.call('HDEL', P .. 'u:' .. uid, k)
    else redis.call('HSET', P .. 'u:' .. uid, k, tostring(v)) end
  end
end
if changes.modes ~= nil then index_modes(uid, redis.call('HGET', P .. 'u:' .. uid, 'modes') or '') end
local out = { 'ok' }
if ARGV[6] ~= '' then announce_rooms(out, uid, ARGV[6], ARGV[7], ARGV[8], ARGV[9]) end
return out
