-- mixed-recipients.lua - one message, accepted and refused recipients interleaved,
-- in both orders: an accepted recipient must not stop the judging of the next.
dofile(LIB)

local c = open("203.0.113.9")
mail(c, "<sender@example.org>")
rcpt(c, "<a@example.com>", "accept")
rcpt(c, "<b@example.net>", "reject 550 default-deny denied")
rcpt(c, "<c@example.com>", "accept")
rcpt(c, "<d@example.org>", "reject 550 default-deny denied")
ok(mt.eom(c), "eom")
want_reply(c, SMFIR_CONTINUE, "eom")

mail(c, "<sender@example.org>")
rcpt(c, "<d@example.org>", "reject 550 default-deny denied")
rcpt(c, "<c@example.com>", "accept")
rcpt(c, "<b@example.net>", "reject 550 default-deny denied")
rcpt(c, "<a@example.com>", "accept")
mt.disconnect(c)
