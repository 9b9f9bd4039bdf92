-- geo-reload.lua - after geoipupdate replaced country.mmdb (203.0.113.0/25
-- is now NG) and SIGUSR1, new connections see the new database.
dofile(LIB)

local c = open("203.0.113.9")
mail(c, "<alice@example.com>", "alice")
rcpt(c, "<friend@example.net>", "reject 550 authenticated login-country")
also("country=NG asn=64500")
mt.disconnect(c)

c = open("203.0.113.200")
mail(c, "<alice@example.com>", "alice")
rcpt(c, "<friend@example.net>", "accept")
also("rule=authenticated country=GB asn=64501")
mt.disconnect(c)
