-- lib.lua - helpers shared by the miltertest scripts.
-- Each recipient check tests the milter's reply class here, and prints an
-- "EXPECT" line that run.sh matches against the milter's decision log.

local qid_seq = 0

-- ok: fail the script when a miltertest call returned an error string
function ok(err, what)
	if err ~= nil then
		error(what .. ": " .. tostring(err))
	end
end

-- want_reply: the last reply must be the given SMFIR_* code
function want_reply(conn, code, what)
	local got = mt.getreply(conn)
	if got ~= code then
		error(what .. ": got reply " .. tostring(got) .. ", want " .. tostring(code))
	end
end

-- open: connect and announce a client (ip may be "unspec" for no address)
function open(ip, helo)
	local conn = mt.connect(SOCKET, 40, 0.25)
	if conn == nil then
		error("cannot connect to " .. SOCKET)
	end
	ok(mt.conninfo(conn, "client.example.net", ip), "conninfo " .. ip)
	want_reply(conn, SMFIR_CONTINUE, "connect " .. ip)
	ok(mt.helo(conn, helo or "client.example.net"), "helo")
	want_reply(conn, SMFIR_CONTINUE, "helo")
	return conn
end

-- mail: start a transaction, optionally authenticated as login
function mail(conn, from, login)
	if login ~= nil then
		mt.macro(conn, SMFIC_MAIL, "{auth_authen}", login)
	else
		mt.macro(conn, SMFIC_MAIL, "{mail_dummy}", "x")
	end
	ok(mt.mailfrom(conn, from), "mailfrom " .. from)
	want_reply(conn, SMFIR_CONTINUE, "mailfrom " .. from)
end

-- rcpt: send one recipient and check the verdict.
-- want is "accept", or "reject CODE RULE REASON", or "tempfail CODE RULE REASON";
-- mta (optional) is the MTA's {rcpt_addr}, mailer its {rcpt_mailer}.
function rcpt(conn, to, want, mta, mailer)
	qid_seq = qid_seq + 1
	local qid = string.format("%s%d", SCRIPT or "T", qid_seq)
	if mta ~= nil then
		mt.macro(conn, SMFIC_RCPT, "i", qid, "{rcpt_addr}", mta, "{rcpt_mailer}", mailer or "esmtp")
	else
		mt.macro(conn, SMFIC_RCPT, "i", qid)
	end
	ok(mt.rcptto(conn, to), "rcptto " .. to)
	local action, code, rule, reason = string.match(want, "^(%a+)%s*(%d*)%s*(%S*)%s*(%S*)$")
	if action == "accept" then
		want_reply(conn, SMFIR_CONTINUE, "rcpt " .. to)
		mt.echo("EXPECT qid=" .. qid .. " action=accept")
	else
		-- a refusal always carries our own SMTP reply text
		want_reply(conn, SMFIR_REPLYCODE, "rcpt " .. to)
		mt.echo(string.format("EXPECT qid=%s action=%s code=%s rule=%s reason=%s",
			qid, action, code, rule, reason))
	end
end

-- also: more key=value pairs the last recipient's decision line must carry
-- (for example "rule=partners-by-asn country=GB asn=64500")
function also(kvs)
	mt.echo(string.format("EXPECT qid=%s%d %s", SCRIPT or "T", qid_seq, kvs))
end

-- rcpt_passes: the recipient is let through (a dry-run refusal) and its
-- decision line carries kvs
function rcpt_passes(conn, to, kvs)
	qid_seq = qid_seq + 1
	local qid = string.format("%s%d", SCRIPT or "T", qid_seq)
	mt.macro(conn, SMFIC_RCPT, "i", qid)
	ok(mt.rcptto(conn, to), "rcptto " .. to)
	want_reply(conn, SMFIR_CONTINUE, "rcpt " .. to)
	mt.echo("EXPECT qid=" .. qid .. " " .. kvs)
end
