-- core-branches.lua - every branch of the core policy, in its own transaction.
dofile(LIB)

-- An outside client: local recipients only.
local c = open("203.0.113.9")
mail(c, "<sender@example.org>")
rcpt(c, "<bob@example.com>", "accept")
rcpt(c, "<bob@mail.example.com>", "accept")
rcpt(c, "<Bob@EXAMPLE.COM.>", "accept")
rcpt(c, "<postmaster>", "accept")
rcpt(c, "<victim@example.net>", "reject 550 default-deny denied")
rcpt(c, "<victim%example.net@example.com>", "reject 550 default-deny routing-trick")
rcpt(c, "<not an address>", "reject 501 default-deny invalid-address")
mt.disconnect(c)

-- The same client after SMTP AUTH: relaying allowed.
c = open("203.0.113.9")
mail(c, "<alice@example.com>", "alice")
rcpt(c, "<friend@example.net>", "accept")
mt.disconnect(c)

-- A trusted network: relaying allowed without a login.
c = open("192.0.2.7")
mail(c, "<app@example.com>")
rcpt(c, "<friend@example.net>", "accept")
mt.disconnect(c)

-- Defence in depth: the MTA's own resolution must be local too.
c = open("203.0.113.9")
mail(c, "<sender@example.org>")
rcpt(c, "<bob@example.com>", "accept", "bob@example.com", "esmtp")
rcpt(c, "<bob@example.com>", "reject 550 default-deny denied", "bob@example.net", "esmtp")
rcpt(c, "<bob@example.com>", "accept", "bob", "local")
mt.disconnect(c)
