-- A member's flags (MODE +o/+v), the actor checked as for KICK.
-- ARGV: P, NODE, TOKEN, seg, uid, flags, actor uid ('' none), actor flags, payload, msgid
--   suffix, epoch candidate, maxlen. Returns { 'ok', flags[, stamp] } or { reason }.
local denied = fence()
if denied then return denied end
local seg, uid = ARGV[4], ARGV[5]
local members = P .. 'r:members:' .. seg
if redis.call('EXISTS', P .. 'r:state:' .. seg) == 0 then return { 'absent' } end
if redis.call('HEXISTS', members, uid) == 0 then return { 'not-member' } end
if not allowed(seg, ARGV[7], ARGV[8]) then return { 'not-allowed' } end
redis.call('HSET', members, uid, ARGV[6])
local out = { 'ok', tonumber(ARGV[6]) }
if ARGV[9] ~= '' then push_stamp(out, sequence('r', seg, ARGV[9], ARGV[10], ARGV[11], ARGV[12])) end
return out
