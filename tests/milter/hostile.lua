-- hostile.lua - hostile recipients and macros: a clear refusal, never a crash.
dofile(LIB)

local c = open("203.0.113.9", string.rep("h", 900)) -- miltertest refuses or overflows past ~1 KB
mail(c, "<" .. string.rep("s", 900) .. "@example.org>")
rcpt(c, "<" .. string.rep("a", 900) .. "@example.com>", "reject 501 default-deny invalid-address")
rcpt(c, "<x@" .. string.rep("b.", 200) .. "example.com>", "reject 501 default-deny invalid-address")
rcpt(c, "<\"unterminated@example.com>", "reject 501 default-deny invalid-address")
rcpt(c, "<a@[IPv6:zz::1]>", "reject 501 default-deny invalid-address")
rcpt(c, "<50%%@example.net>", "reject 550 default-deny routing-trick")
rcpt(c, "<a@b@example.com>", "reject 550 default-deny routing-trick")
rcpt(c, "<>", "reject 501 default-deny invalid-address")
rcpt(c, "<bob@example.com>", "reject 550 default-deny denied", string.rep("m", 900), "esmtp")
-- a huge recipient list: every one judged, the connection stays healthy
for i = 1, 1000 do
	rcpt(c, string.format("<r%d@example.net>", i), "reject 550 default-deny denied")
end
rcpt(c, "<bob@example.com>", "accept")
mt.disconnect(c)
