-- reload-before.lua - 8 of reloader's 10 recipients, before run.sh reloads.
dofile(LIB)

local c = open("203.0.113.9")
mail(c, "<reloader@example.com>", "reloader")
for i = 1, 8 do
	rcpt(c, string.format("<x%d@example.net>", i), "accept")
end
mt.disconnect(c)
