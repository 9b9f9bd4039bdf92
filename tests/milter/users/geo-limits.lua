-- geo-limits.lua - a login limited to one country, and a login that may not relay.
dofile(LIB)

-- alice from GB (her country): relaying allowed; the log line carries country and ASN.
local c = open("203.0.113.9")
mail(c, "<alice@example.com>", "alice")
rcpt(c, "<friend@example.net>", "accept")
also("rule=authenticated country=GB asn=64500")
mt.disconnect(c)

-- alice from NG: the same login may not relay from there; local mail still flows.
c = open("203.0.113.200")
mail(c, "<alice@example.com>", "alice")
rcpt(c, "<friend@example.net>", "reject 550 authenticated login-country")
also("country=NG asn=64501")
rcpt(c, "<bob@example.com>", "accept")
also("rule=local-domain country=NG")
mt.disconnect(c)

-- alice from a private address (not in the database: "--") is refused too...
c = open("10.9.8.7")
mail(c, "<alice@example.com>", "alice")
rcpt(c, "<friend@example.net>", "reject 550 authenticated login-country")
also("country=-- asn=0")
mt.disconnect(c)

-- ... unless the network is trusted, whoever logs in there.
c = open("192.0.2.7")
mail(c, "<alice@example.com>", "alice")
rcpt(c, "<friend@example.net>", "accept")
also("rule=trusted-network")
mt.disconnect(c)

-- bulk: relay = false takes relaying away even though it authenticated.
c = open("203.0.113.9")
mail(c, "<news@bulk.example>", "bulk")
rcpt(c, "<reader@example.net>", "reject 550 authenticated login-no-relay")
rcpt(c, "<bob@example.com>", "accept")
mt.disconnect(c)
