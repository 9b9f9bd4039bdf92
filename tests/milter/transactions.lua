-- transactions.lua - several transactions on one connection, and a message
-- after an aborted one: nothing (above all, no login) carries over.
dofile(LIB)

local c = open("203.0.113.9")
mail(c, "<alice@example.com>", "alice")
rcpt(c, "<far@example.net>", "accept")
ok(mt.eom(c), "eom")
want_reply(c, SMFIR_CONTINUE, "eom")

-- second transaction, no login: the first one's login must be forgotten
mail(c, "<someone@example.org>")
rcpt(c, "<far@example.net>", "reject 550 default-deny denied")
ok(mt.abort(c), "abort")

-- after an abort (RSET), authenticated again
mail(c, "<alice@example.com>", "alice")
rcpt(c, "<far@example.net>", "accept")
ok(mt.abort(c), "abort")

-- and after that abort, without login
mail(c, "<someone@example.org>")
rcpt(c, "<far@example.net>", "reject 550 default-deny denied")
rcpt(c, "<bob@example.com>", "accept")
mt.disconnect(c)
