-- Removes a user of this node: its QUIT announced to its rooms first, then nick and
-- memberships freed. ARGV: P, NODE, TOKEN, uid, payload ('' for none), msgid suffix, epoch candidate, maxlen.
-- Returns { 'ok', { room names }, seg, seq, time, msgid, epoch, ... } or { 'none' }.
local denied = fence()
if denied then return denied end
local uid = ARGV[4]
if redis.call('HGET', P .. 'u:' .. uid, 'node') ~= NODE then return { 'none' } end
local out = { 'ok', false }
if ARGV[5] ~= '' then announce_rooms(out, uid, ARGV[5], ARGV[6], ARGV[7], ARGV[8]) end
out[2] = drop_user(uid)
return out
