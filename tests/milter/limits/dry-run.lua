-- dry-run.lua - a dry_run limit counts and logs (dry_run=yes) but lets through.
dofile(LIB)

local c = open("192.0.2.20")
mail(c, "<list@dry.example>")
for i = 1, 3 do
	rcpt(c, string.format("<m%d@example.net>", i), "accept")
	also("rule=trusted-network")
end
for i = 4, 5 do
	rcpt_passes(c, string.format("<m%d@example.net>", i),
		"action=tempfail code=451 rule=dry-cap reason=rate-limit dry_run=yes")
end
mt.disconnect(c)
