-- A room's state and members, read together (lib.lua snapshot). ARGV: P, seg, details ('0' to
-- leave the members' details out).
return snapshot(ARGV[2], ARGV[3] ~= '0')
