-- per-message.lua - max_recipients_per_message = 100: recipient 101 gets
-- 452 4.5.3 while the message's first 100 stand; the next message starts afresh.
dofile(LIB)

local c = open("192.0.2.10")
mail(c, "<host@example.com>")
for i = 1, 100 do
	rcpt(c, string.format("<u%d@example.com>", i), "accept")
end
rcpt(c, "<u101@example.com>", "tempfail 452 recipient-limit too-many-recipients")
also("ecode=4.5.3")
mt.abort(c)
mail(c, "<host@example.com>")
rcpt(c, "<u1@example.com>", "accept")
mt.disconnect(c)
