-- reload-after.lua - after a reload the count goes on: 2 more, then refused.
dofile(LIB)

local c = open("203.0.113.9")
mail(c, "<reloader@example.com>", "reloader")
rcpt(c, "<y1@example.net>", "accept")
rcpt(c, "<y2@example.net>", "accept")
rcpt(c, "<y3@example.net>", "reject 550 reload-cap rate-limit")
mt.disconnect(c)
