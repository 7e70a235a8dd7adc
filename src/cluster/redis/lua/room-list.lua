-- One page of LIST, read together: rooms after a segment in folded-name order. ARGV: P,
-- start ('-' or '(<seg>'), count. Returns { more (0|1), then per room seg, name, members,
-- modes, topic ('' when none), has topic (0|1), created ('' when not known) }.
local count = tonumber(ARGV[3])
local segs = redis.call('ZRANGEBYLEX', P .. 'rooms', ARGV[2], '+', 'LIMIT', 0, count + 1)
local out = { (#segs > count) and 1 or 0 }
for i = 1, math.min(#segs, count) do
  local seg = segs[i]
  local f = redis.call('HMGET', P .. 'r:state:' .. seg, 'name', 'modes', 'topic', 'created')
  out[#out + 1] = seg
  out[#out + 1] = f[1] or seg
  out[#out + 1] = redis.call('HLEN', P .. 'r:members:' .. seg)
  out[#out + 1] = f[2] or ''
  out[#out + 1] = f[3] or ''
  out[#out + 1] = f[3] and 1 or 0
  out[#out + 1] = f[4] or ''
end
return out
