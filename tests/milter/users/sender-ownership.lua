-- sender-ownership.lua - logins use only their own sender addresses
-- (sender_ownership = "everyone").
dofile(LIB)

-- bob uses his own address and one of his domain: fine.
local c = open("203.0.113.9")
mail(c, "<bob@example.com>", "bob@example.com")
rcpt(c, "<friend@example.net>", "accept")
mail(c, "<Anything@BOB.example>", "bob@example.com")
rcpt(c, "<friend@example.net>", "accept")
-- bob uses alice's address: refused for every recipient, local ones too.
mail(c, "<alice@example.com>", "bob@example.com")
rcpt(c, "<friend@example.net>", "reject 553 sender-ownership sender-not-owned")
rcpt(c, "<carol@example.com>", "reject 553 sender-ownership sender-not-owned")
-- the null sender from a login is allowed here (null_sender_authenticated = "allow").
mail(c, "<>", "bob@example.com")
rcpt(c, "<friend@example.net>", "accept")
mt.disconnect(c)

-- An outside client that did not log in may not use an address a login owns...
c = open("203.0.113.200")
mail(c, "<alice@example.com>")
rcpt(c, "<carol@example.com>", "reject 553 sender-ownership sender-not-owned")
-- ... but may use anybody else's, to local recipients.
mail(c, "<stranger@example.net>")
rcpt(c, "<carol@example.com>", "accept")
mt.disconnect(c)

-- A trusted network may use owned addresses without logging in.
c = open("192.0.2.9")
mail(c, "<alice@example.com>")
rcpt(c, "<friend@example.net>", "accept")
also("rule=trusted-network")
mt.disconnect(c)
