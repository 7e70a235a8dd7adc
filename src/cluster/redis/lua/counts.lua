-- LUSERS's network-wide totals, read together. ARGV: P.
-- Returns { users, invisible, operators, rooms }: the sets users:i and users:o are kept by
-- user-add, user-update and drop_user in the same step as each change, so nothing is walked.
return {
  redis.call('ZCARD', P .. 'users'),
  redis.call('SCARD', P .. 'users:i'),
  redis.call('SCARD', P .. 'users:o'),
  redis.call('ZCARD', P .. 'rooms'),
}
