-- inflight.lua - a connection opened before a reload keeps the snapshot it
-- pinned: it announces itself (READY), waits for GO (the test reloads in
-- between), and then expects the verdict WANT ("accept" or "reject").
dofile(LIB)

local function exists(path)
	local f = io.open(path, "r")
	if f ~= nil then
		f:close()
		return true
	end
	return false
end

local c = open("203.0.113.9", "inflight.example.net")
mail(c, "<early@example.org>")
local r = io.open(READY, "w")
r:write("ready\n")
r:close()
local waited = 0
while not exists(GO) do
	os.execute("sleep 0.1")
	waited = waited + 1
	if waited > 300 then
		error("GO never came")
	end
end
ok(mt.rcptto(c, "<bob@example.net>"), "rcptto")
if WANT == "accept" then
	want_reply(c, SMFIR_CONTINUE, "in-flight recipient")
else
	want_reply(c, SMFIR_REPLYCODE, "in-flight recipient")
end
mt.disconnect(c)
