-- spread.lua - one connection sends N recipients for LOGIN in one message
-- and prints how many the milter accepted ("accepted=K refused=R").
local conn = mt.connect(SOCKET, 40, 0.25)
if conn == nil then
	error("cannot connect to " .. SOCKET)
end
mt.conninfo(conn, "client.example.net", "203.0.113.9")
mt.helo(conn, "client.example.net")
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", LOGIN)
mt.mailfrom(conn, "<" .. LOGIN .. "@example.com>")
local accepted, refused = 0, 0
for i = 1, tonumber(N) do
	mt.macro(conn, SMFIC_RCPT, "i", string.format("%s%d", TAG or "Q", i))
	mt.rcptto(conn, string.format("<r%d@example.net>", i))
	if mt.getreply(conn) == SMFIR_CONTINUE then
		accepted = accepted + 1
	else
		refused = refused + 1
	end
end
mt.disconnect(conn)
print(string.format("accepted=%d refused=%d", accepted, refused))
