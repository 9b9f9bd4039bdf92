-- load.lua - one client of the reload-under-load test: transaction after
-- transaction, each on a new connection, until the file STOP exists. An
-- outsider relays to <bob@example.net> (the verdict the reloads flip) and
-- sends to the local <bob@example.com> (always accepted). Any other reply,
-- or any protocol error, fails the script: no transaction may break.
dofile(LIB)

local seq, last, accepted, rejected, n = "", "", 0, 0, 0

local function stopped()
	local f = io.open(STOP, "r")
	if f ~= nil then
		f:close()
		return true
	end
	return false
end

while not stopped() do
	local c = open("203.0.113.9", "load.example.net")
	mail(c, "<load@example.org>")
	ok(mt.rcptto(c, "<bob@example.net>"), "rcptto remote")
	local got = mt.getreply(c)
	local v
	if got == SMFIR_CONTINUE then
		v = "A"
		accepted = accepted + 1
	elseif got == SMFIR_REPLYCODE then
		v = "R"
		rejected = rejected + 1
	else
		error("transaction " .. n .. ": unexpected reply " .. tostring(got))
	end
	if v ~= last then
		seq = seq .. v
		last = v
	end
	ok(mt.rcptto(c, "<bob@example.com>"), "rcptto local")
	want_reply(c, SMFIR_CONTINUE, "local recipient")
	mt.disconnect(c)
	n = n + 1
end
mt.echo(string.format("LOAD transactions=%d accepted=%d rejected=%d sequence=%s",
	n, accepted, rejected, seq))
