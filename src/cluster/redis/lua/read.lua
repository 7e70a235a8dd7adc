-- What a follower reads: the log's epoch and last sequence, the entries after a position, and
-- the msgid of the entry at the position (so a follower sees that Redis went back to an older
-- copy of the log and gave its sequences to new entries), together, so a restarted log is
-- seen with its entries. ARGV: P, kind, seg, after, count.
-- Returns { epoch or false, last, entries, msgid at `after` or false }.
local meta = redis.call('HMGET', P .. ARGV[2] .. ':seq:' .. ARGV[3], 'epoch', 'seq')
local log = P .. ARGV[2] .. ':log:' .. ARGV[3]
local entries = {}
local at = false
if tonumber(ARGV[5]) > 0 then
  entries = redis.call('XRANGE', log, '(' .. ARGV[4] .. '-0', '+', 'COUNT', ARGV[5])
  local here = redis.call('XRANGE', log, ARGV[4] .. '-0', ARGV[4] .. '-0')
  if here[1] then
    local fields = here[1][2]
    for i = 1, #fields, 2 do
      if fields[i] == 'm' then at = fields[i + 1] end
    end
  end
end
return { meta[1], tonumber(meta[2] or '0'), entries, at }
