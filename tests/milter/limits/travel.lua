-- travel.lua - a login seen from GB, then NG, then US inside six hours goes
-- over "travel" (two countries) and is locked: every recipient is
-- tempfailed until the lock ends or an operator lifts it (run.sh does, then
-- runs travel-unlocked).
dofile(LIB)

local c = open("203.0.113.9") -- GB
mail(c, "<traveller@example.com>", "traveller")
rcpt(c, "<a@example.net>", "accept")
mt.disconnect(c)

c = open("203.0.113.200") -- NG
mail(c, "<traveller@example.com>", "traveller")
rcpt(c, "<b@example.net>", "accept")
mt.disconnect(c)

c = open("198.51.100.9") -- US: a third country
mail(c, "<traveller@example.com>", "traveller")
rcpt(c, "<c@example.net>", "tempfail 451 travel rate-limit")
also("ecode=4.7.1 country=US")
rcpt(c, "<bob@example.com>", "tempfail 451 travel locked")
mt.disconnect(c)

-- locked from its home country too
c = open("203.0.113.9")
mail(c, "<traveller@example.com>", "traveller")
rcpt(c, "<d@example.net>", "tempfail 451 travel locked")
mt.disconnect(c)
