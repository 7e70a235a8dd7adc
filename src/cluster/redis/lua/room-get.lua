-- A room's state and members, read together. ARGV: P, seg. Returns { state, members } (flat lists).
return snapshot(ARGV[2])
