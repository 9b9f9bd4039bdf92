-- travel-unlocked.lua - after "--control unlock login=traveller" the login
-- relays again from a country it was seen in.
dofile(LIB)

local c = open("203.0.113.9")
mail(c, "<traveller@example.com>", "traveller")
rcpt(c, "<e@example.net>", "accept")
mt.disconnect(c)
