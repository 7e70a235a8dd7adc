-- Room state change (MODE, TOPIC, bans, invites): optional compare-and-set on the version,
-- the actor's flags, the fields set and deleted, version + 1, and the event sequenced with the
-- new version in the same step, so the log's order is the order of the versions: two ops
-- setting +l on two nodes get one order, and every node sees it.
-- Members' flags change in the same step as bits added and removed (MODE +o/+v), so two ops
-- changing one member at once both take effect; uids that are not members are skipped.
-- ARGV: P, NODE, TOKEN, seg, expect ('' none | version), actor uid ('' none), actor flags,
--   set JSON object, del JSON array, members JSON array of [uid, add, remove], payload,
--   msgid suffix, epoch candidate, maxlen.
-- Returns { 'ok', version[, stamp] } or { 'stale', snapshot } or { reason }.
local denied = fence()
if denied then return denied end
local seg = ARGV[4]
local state = P .. 'r:state:' .. seg
local version = redis.call('HGET', state, '_v')
if not version then return { 'absent' } end
if ARGV[5] ~= '' and version ~= ARGV[5] then return { 'stale', snapshot(seg) } end
if not allowed(seg, ARGV[6], ARGV[7]) then return { 'not-allowed' } end
for _, k in ipairs(cjson.decode(ARGV[9])) do
  if k ~= '_v' and k ~= 'name' then redis.call('HDEL', state, k) end
end
for k, v in pairs(cjson.decode(ARGV[8])) do
  if k ~= '_v' and k ~= 'name' then redis.call('HSET', state, k, tostring(v)) end
end
local members = P .. 'r:members:' .. seg
for _, m in ipairs(cjson.decode(ARGV[10])) do
  local flags = redis.call('HGET', members, m[1])
  if flags then
    local changed = bit.band(bit.bor(tonumber(flags), m[2]), bit.bnot(m[3]))
    redis.call('HSET', members, m[1], changed)
  end
end
local v = redis.call('HINCRBY', state, '_v', 1)
local out = { 'ok', v }
if ARGV[11] ~= '' then push_stamp(out, sequence('r', seg, ARGV[11], ARGV[12], ARGV[13], ARGV[14], v)) end
return out
