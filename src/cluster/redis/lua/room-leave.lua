-- PART, or KICK when an actor is given (it must hold one of the flags); the event is
-- sequenced while the user is still a member, then the membership goes (an emptied room too).
-- ARGV: P, NODE, TOKEN, seg, uid, actor uid ('' none), actor flags, payload, msgid suffix,
--   epoch candidate, maxlen. Returns { 'ok', remaining[, stamp] } or { reason }.
local denied = fence()
if denied then return denied end
local seg, uid = ARGV[4], ARGV[5]
local members = P .. 'r:members:' .. seg
if redis.call('HEXISTS', members, uid) == 0 then return { 'not-member' } end
if not allowed(seg, ARGV[6], ARGV[7]) then return { 'not-allowed' } end
local out = { 'ok', redis.call('HLEN', members) - 1 }
if ARGV[8] ~= '' then push_stamp(out, sequence('r', seg, ARGV[8], ARGV[9], ARGV[10], ARGV[11])) end
drop_member(seg, uid)
return out
