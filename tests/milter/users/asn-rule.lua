-- asn-rule.lua - a rule that accepts by AS number.
dofile(LIB)

-- AS64502 (198.51.100.0/24) is a partner: relaying without a login.
local c = open("198.51.100.7")
mail(c, "<app@partner.example>")
rcpt(c, "<friend@example.net>", "accept")
also("rule=partners-by-asn reason=rule country=US asn=64502")
mt.disconnect(c)

-- The same over IPv4-mapped IPv6.
c = open("::ffff:198.51.100.200")
mail(c, "<app@partner.example>")
rcpt(c, "<friend@example.net>", "accept")
also("rule=partners-by-asn country=DE asn=64502")
mt.disconnect(c)

-- AS64500 is not: the usual relay denial.
c = open("203.0.113.9")
mail(c, "<app@partner.example>")
rcpt(c, "<friend@example.net>", "reject 550 default-deny denied")
also("country=GB asn=64500")
mt.disconnect(c)
