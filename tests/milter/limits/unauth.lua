-- unauth.lua - an unauthenticated client is limited too: its relay attempts
-- are refused by the policy (never counted), its local mail counts toward
-- nothing remote, and a trusted client's relaying counts per client.
dofile(LIB)

-- relay attempts from outside: refused by the policy, not by the limit
local c = open("198.51.100.77")
mail(c, "<x@example.org>")
for i = 1, 25 do
	rcpt(c, string.format("<v%d@example.net>", i), "reject 550 default-deny denied")
end
-- local recipients are outside unauth-ip (recipient_local = false)
for i = 1, 25 do
	rcpt(c, string.format("<v%d@example.com>", i), "accept")
end
mt.disconnect(c)

-- a trusted host relays without logging in: unauth-ip counts it, 20 in ten minutes
c = open("192.0.2.99")
mail(c, "<app@example.com>")
for i = 1, 20 do
	rcpt(c, string.format("<w%d@example.net>", i), "accept")
end
rcpt(c, "<w21@example.net>", "tempfail 451 unauth-ip rate-limit")
mt.disconnect(c)
