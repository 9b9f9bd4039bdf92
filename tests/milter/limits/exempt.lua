-- exempt.lua - a login whose override is 0 is never limited by that limit.
dofile(LIB)

local c = open("203.0.113.9")
local n = 0
for m = 1, 6 do
	mail(c, "<news@example.com>", "newsletter")
	for i = 1, 100 do
		n = n + 1
		rcpt(c, string.format("<reader%d@example.net>", n), "accept")
	end
	mt.abort(c)
end
mt.disconnect(c)
