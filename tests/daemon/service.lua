-- service.lua - three recipients for tests/daemon/service.sh: one local
-- (accepted), one relay attempt (refused), one with quotes and an 8-bit
-- byte in it (refused as malformed). SCRIPT sets the queue-id prefix, so each run is told apart.
dofile(LIB)

local c = open("203.0.113.9", "mx.example.net")
mail(c, "<sender@example.org>")
rcpt(c, "<bob@example.com>", "accept")
rcpt(c, "<victim@example.net>", "reject 550 default-deny denied")
rcpt(c, "<\"q \\\"x\\\" \255\"@example.net>", "reject 501 default-deny invalid-address")
mt.disconnect(c)
