-- addresses.lua - IPv4, IPv6 and IPv4-mapped clients, and a client without an address.
dofile(LIB)

local cases = {
	{ "198.51.100.1", "reject 550 default-deny denied" },
	{ "2001:db8:ffff::1", "reject 550 default-deny denied" },
	{ "2001:db8:1::25", "accept" },
	{ "::1", "accept" },
	{ "127.0.0.1", "accept" },
	{ "::ffff:192.0.2.7", "accept" },
	{ "::ffff:203.0.113.9", "reject 550 default-deny denied" },
}
for _, case in ipairs(cases) do
	local c = open(case[1])
	mail(c, "<sender@example.org>")
	rcpt(c, "<bob@example.com>", "accept")
	rcpt(c, "<far@example.net>", case[2])
	mt.disconnect(c)
end

-- No client address at all (local submission): no_client_address = "trusted"
local c = open("unspec")
mail(c, "<root@example.com>")
rcpt(c, "<far@example.net>", "accept")
mt.disconnect(c)
