-- unqualified-sender.lua - the sender is judged as the MTA will deliver it
-- (issue 11): a bare MAIL FROM:<alice> and the MTA's {mail_addr}
-- (sender_ownership = "everyone", no sender_origin).
dofile(LIB)

-- Postfix delivers <alice> as alice@$myorigin, which we cannot know: an
-- outsider may not use it, to local recipients either.
local c = open("203.0.113.200")
mail(c, "<alice>")
rcpt(c, "<carol@example.com>", "reject 553 sender-ownership sender-unverifiable")
mt.disconnect(c)

-- The MTA's form of the sender counts too: {mail_addr} names an owned address.
c = open("203.0.113.200")
mt.macro(c, SMFIC_MAIL, "{mail_addr}", "alice@example.com")
ok(mt.mailfrom(c, "<stranger@example.net>"), "mailfrom")
want_reply(c, SMFIR_CONTINUE, "mailfrom")
rcpt(c, "<carol@example.com>", "reject 553 sender-ownership sender-not-owned")
-- ... and an unowned {mail_addr} changes nothing.
mt.macro(c, SMFIC_MAIL, "{mail_addr}", "stranger@example.net")
ok(mt.mailfrom(c, "<stranger@example.net>"), "mailfrom")
want_reply(c, SMFIR_CONTINUE, "mailfrom")
rcpt(c, "<carol@example.com>", "accept")
mt.disconnect(c)

-- A trusted network still may: it is not asked who owns the sender.
c = open("192.0.2.9")
mail(c, "<alice>")
rcpt(c, "<carol@example.com>", "accept")
mt.disconnect(c)
