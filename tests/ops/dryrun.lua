-- dryrun.lua - what a dry-run lets through. With MODE=mode the whole policy
-- is on trial: the outsider's relay attempt passes. With MODE=rule only the
-- rule "trial-helo" is: it is noted, and default-deny still refuses.
dofile(LIB)

local c = open("203.0.113.9", "host1.dyn.example.net")
mail(c, "<sender@example.org>")
rcpt(c, "<bob@example.com>", "accept")
if MODE == "mode" then
	rcpt(c, "<victim@example.net>", "accept")
else
	rcpt(c, "<victim@example.net>", "reject 550 default-deny denied")
end
mt.disconnect(c)
