-- A node leaves: its lease goes; it is forgotten unless users or connection counts remain,
-- which a peer then reaps. ARGV: P, NODE, TOKEN.
if redis.call('GET', P .. 'lease:' .. NODE) == TOKEN then redis.call('DEL', P .. 'lease:' .. NODE) end
if redis.call('SCARD', P .. 'n:users:' .. NODE) == 0 and redis.call('SCARD', P .. 'n:addrs:' .. NODE) == 0 then
  redis.call('SREM', P .. 'nodes', NODE)
end
return 'OK'
