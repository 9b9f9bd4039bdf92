-- burst.lua - a login sending 600 recipients in one burst (six messages of
-- 100) gets exactly 500 accepted, then 451 4.7.1 for every one after.
dofile(LIB)

local c = open("203.0.113.9")
local n = 0
for m = 1, 6 do
	mail(c, "<burst@example.com>", "burst")
	for i = 1, 100 do
		n = n + 1
		if n <= 500 then
			rcpt(c, string.format("<r%d@example.net>", n), "accept")
		else
			rcpt(c, string.format("<r%d@example.net>", n), "tempfail 451 login-hour rate-limit")
		end
	end
	mt.abort(c)
end
-- local mail is outside the limit (recipient_local = false): it still flows
mail(c, "<burst@example.com>", "burst")
rcpt(c, "<bob@example.com>", "accept")
mt.disconnect(c)
