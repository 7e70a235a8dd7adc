-- Publish one event to a room's or a node's log.
-- ARGV: P, NODE, TOKEN, kind ('r'|'n'), segment, payload, msgid suffix, epoch candidate, maxlen
-- Returns { seq, time, msgid, epoch }.
local denied = fence()
if denied then return denied end
return sequence(ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9])
