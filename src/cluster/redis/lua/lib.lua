-- Shared by every script: prepended to each .lua file when it is loaded (scripts.ts), so each
-- script is still one atomic EVALSHA. Keys are built here from ARGV (prefix + encoded segments,
-- see keys.ts), which is why the cluster needs a standalone Redis (or Sentinel), not Redis Cluster.
--
-- Every state-changing script starts with: P = ARGV[1] (key prefix), NODE = ARGV[2] (the caller),
-- TOKEN = ARGV[3] (its lease token), and calls fence() before touching anything.

local P, NODE, TOKEN = ARGV[1], ARGV[2], ARGV[3]

-- A node whose lease expired (or was reaped, or never existed in this Redis) must not act on
-- what it believes it owns (Kleppmann, "How to do distributed locking").
local function fence()
  if redis.call('GET', P .. 'lease:' .. NODE) ~= TOKEN then
    return redis.error_reply('FENCED lease of ' .. NODE .. ' is not held')
  end
  return nil
end

local B32 = '0123456789abcdefghijklmnopqrstuv'

-- Milliseconds as 9 base-32 digits (good until the year 3084): fixed width, so msgids sort by
-- time as strings.
local function time32(ms)
  local out = {}
  for i = 9, 1, -1 do
    local d = ms % 32
    out[i] = string.sub(B32, d + 1, d + 1)
    ms = (ms - d) / 32
  end
  return table.concat(out)
end

-- The sequencer: one ordered, replayable log per room ('r') or node inbox ('n').
-- Increments the log's sequence, stamps a time strictly above the log's last one (Redis TIME,
-- clamped: equal times would let history's (time, msgid) order differ from the sequence),
-- appends to the capped stream under the id '<seq>-0' (so readers resume and find gaps by
-- sequence), and PUBLISHes '<seq>:<epoch>' so followers wake up. The epoch is set when the log's
-- counter is created; a new epoch means the log restarted (Redis lost it) and old positions
-- are void.
local function sequence(kind, seg, payload, idsuffix, epoch_candidate, maxlen, version)
  local meta = P .. kind .. ':seq:' .. seg
  local seq = redis.call('HINCRBY', meta, 'seq', 1)
  local epoch = redis.call('HGET', meta, 'epoch')
  if not epoch then
    epoch = epoch_candidate
    redis.call('HSET', meta, 'epoch', epoch)
  end
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local last = tonumber(redis.call('HGET', meta, 'time') or '0')
  if now <= last then now = last + 1 end
  redis.call('HSET', meta, 'time', now)
  local msgid = time32(now) .. idsuffix
  if version then
    redis.call('XADD', P .. kind .. ':log:' .. seg, 'MAXLEN', '~', maxlen, seq .. '-0',
      'e', payload, 't', now, 'm', msgid, 'v', version)
  else
    redis.call('XADD', P .. kind .. ':log:' .. seg, 'MAXLEN', '~', maxlen, seq .. '-0',
      'e', payload, 't', now, 'm', msgid)
  end
  redis.call('PUBLISH', P .. kind .. ':' .. seg, seq .. ':' .. epoch)
  return { seq, now, msgid, epoch }
end

-- Appends a stamp's four parts to a flat reply.
local function push_stamp(out, stamp)
  for i = 1, 4 do out[#out + 1] = stamp[i] end
end

-- Sequences `payload` into every room of a user (its QUIT, NICK, AWAY), in room-name order;
-- each gets msgid suffix `<suffix>-<i>`. Appends { seg, seq, time, msgid, epoch } per room.
local function announce_rooms(out, uid, payload, suffix, epoch_candidate, maxlen)
  local segs = redis.call('SMEMBERS', P .. 'u:rooms:' .. uid)
  table.sort(segs)
  for i, seg in ipairs(segs) do
    out[#out + 1] = seg
    push_stamp(out, sequence('r', seg, payload, suffix .. '-' .. i, epoch_candidate, maxlen))
  end
end

-- Drops one membership; a room left empty is removed, and its log and counter expire in a day
-- (a join makes them persistent again), so short-lived rooms do not stay in Redis for ever.
local function drop_member(seg, uid)
  local members = P .. 'r:members:' .. seg
  redis.call('HDEL', members, uid)
  redis.call('SREM', P .. 'u:rooms:' .. uid, seg)
  if redis.call('HLEN', members) == 0 then
    redis.call('DEL', members, P .. 'r:state:' .. seg)
    redis.call('ZREM', P .. 'rooms', seg)
    redis.call('EXPIRE', P .. 'r:log:' .. seg, 86400)
    redis.call('EXPIRE', P .. 'r:seq:' .. seg, 86400)
  end
end

-- Forgets a user: its memberships, its nick (if still its own), its record. Returns the
-- display names of its rooms.
local function drop_user(uid)
  local names = {}
  local segs = redis.call('SMEMBERS', P .. 'u:rooms:' .. uid)
  table.sort(segs)
  for _, seg in ipairs(segs) do
    names[#names + 1] = redis.call('HGET', P .. 'r:state:' .. seg, 'name') or seg
    drop_member(seg, uid)
  end
  local fields = redis.call('HMGET', P .. 'u:' .. uid, 'nk', 'node')
  if fields[1] and redis.call('GET', P .. 'nick:' .. fields[1]) == uid then
    redis.call('DEL', P .. 'nick:' .. fields[1])
  end
  if fields[2] then redis.call('SREM', P .. 'n:users:' .. fields[2], uid) end
  redis.call('DEL', P .. 'u:' .. uid, P .. 'u:rooms:' .. uid)
  redis.call('ZREM', P .. 'users', uid)
  redis.call('SREM', P .. 'users:i', uid)
  redis.call('SREM', P .. 'users:o', uid)
  return names
end

-- A room's state and members as two flat lists (HGETALL), the log's sequence, and per member
-- (in the members' order) nick, user, host, realname, account, away: what a node needs to start
-- a copy of the room and follow its log from that sequence. `details` false leaves the members'
-- details out (one HMGET per member: a node that already has a copy does not need them).
local function snapshot(seg, details)
  local members = redis.call('HGETALL', P .. 'r:members:' .. seg)
  local users = {}
  for i = 1, (details == false) and 0 or #members, 2 do
    local f = redis.call('HMGET', P .. 'u:' .. members[i], 'nick', 'user', 'host', 'realname', 'account', 'away')
    for j = 1, 6 do users[#users + 1] = f[j] or '' end
    -- account and away may be absent (false): marked so they read back as null
    users[#users - 1] = f[5] and ('=' .. f[5]) or ''
    users[#users] = f[6] and ('=' .. f[6]) or ''
  end
  local seq = redis.call('HGET', P .. 'r:seq:' .. seg, 'seq') or '0'
  return { redis.call('HGETALL', P .. 'r:state:' .. seg), members, { seq }, users }
end

-- Keeps the sets LUSERS counts (users:i invisible, users:o operators) in step with a user's
-- mode letters.
local function index_modes(uid, modes)
  for _, letter in ipairs({ 'i', 'o' }) do
    if string.find(modes, letter, 1, true) then redis.call('SADD', P .. 'users:' .. letter, uid)
    else redis.call('SREM', P .. 'users:' .. letter, uid) end
  end
end

-- Does `by` (a uid, '' for nobody) hold one of the flags `any`? '' passes (no actor check).
local function allowed(seg, by, any)
  if by == '' then return true end
  local flags = tonumber(redis.call('HGET', P .. 'r:members:' .. seg, by) or '0')
  return bit.band(flags, tonumber(any)) ~= 0
end
