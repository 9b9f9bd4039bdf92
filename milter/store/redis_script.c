/* redis_script.c - the server-side Lua scripts of the Redis store, as C strings */
#include "redis_script.h"

/*
 * Key layout: one hash per principal, "<prefix>{<principal>}:p" (the
 * principal escaped, redis_keys.c, and its hash tag), holding every
 * counter and lock of that principal:
 *   "@ end"          when the hash expires (Unix s): the latest end of its
 *                    counters; always there while the hash is
 *   name             a counter's header (struct, HDR below): kind, exceeded
 *                    mark, the window of its grid, the total of its slots
 *                    from the oldest on, that oldest slot start that may
 *                    still have a field, the newest slot's start and count,
 *                    the lock's end (0), how many member fields (stale ones
 *                    linger until a compaction)
 *   name " s" start  an older slot's count (sums: admissions; distinct:
 *                    members last seen in it)
 *   name " m" member the slot start a member was last seen in
 * Limit names are escaped, so they hold no space. No field carries max or
 * lock, so a changed limit keeps its history. Time is the server's (TIME):
 * every host shares one clock. A counter lives until its newest slot stops
 * counting (STORE_SLOTS + 1 slots) or its lock ends; the hash lives as long
 * as its longest-lived counter, so the fields of a short window may stay
 * while a longer one counts (a counter that no longer counts is dropped
 * when it is next read, and has no more than STORE_SLOTS slot fields).
 *
 * Why one hash (issue 14): Redis runs one script at a time, so the
 * script's own time bounds every host's decisions, and each redis.call
 * costs about as much as the work it does. A decision reads every header
 * of a principal in one HMGET and writes what changed in one HSET (one
 * struct.unpack, and one struct.pack, a check); the expiry moves only when
 * a counter ends later. The running total is kept up to date as slots
 * fall out of the window (each deleted once, by walking the grid from the
 * oldest). A changed window or kind is rebuilt once from HGETALL. The
 * layout before (a hash per counter, "c:" name, with an index "i" and old
 * locks "l:" name under "<prefix>{<principal>}:") is taken over the first
 * time a principal is read (take_over).
 */

/*
 * Shared by the scripts: the server clock, the header, a window's grid,
 * the rebuild of a counter on a grid, a hash's fields by counter, and the
 * take-over of the layout before.
 */
#define LUA_COMMON                                                                                                                        \
	"local call, ceil, fmt = redis.call, math.ceil, string.format\n"                                                                  \
	"local pack, unpack_h = struct.pack, struct.unpack\n"                                                                             \
	"local t = call('TIME')\n"                                                                                                        \
	"local now_s = tonumber(t[1])\n"                                                                                                  \
	"local SLOTS = 96\n"                                                                                                              \
	"-- a counter's header: kind (1 sum, 2 distinct, 0 a lock alone), exceeded mark, window, total,\n"                                \
	"-- oldest slot start that may have a field, newest slot start, its count, lock end, members\n"                                   \
	"local HDR = '<BBI4dI4I4dI4I4'\n"                                                                                                 \
	"local END = '@ end'\n"                                                                                                           \
	"-- a check (ARGV): principal (KEYS index), kind, dry_run (1), add, max, window, lock\n"                                          \
	"local SPEC = '<I4BBI4dI4I4'\n"                                                                                                   \
	"-- its answer: status (0 ok, 1 exceeded, 2 locked), first_exceeded, lock_started, count, until\n"                                \
	"local OUT = '<BBBdI4'\n"                                                                                                         \
	"-- I - n as redis.call wants it: a string made by '%d' (never a number, which Redis\n"                                           \
	"-- formats with '%.17g', nor Lua's tostring or .., '%.14g': both through printf_fp);\n"                                          \
	"-- every value here is an integer, below 2^53, so the digits are the same\n"                                                     \
	"local function I(n)\n"                                                                                                           \
	"  if n == 0 then return '0' elseif n == 1 then return '1' end\n"                                                                 \
	"  return fmt('%d', n)\n"                                                                                                         \
	"end\n"                                                                                                                           \
	"-- grid - a window's slot width, the current slot's start, the oldest start that counts\n"                                       \
	"local function grid(window)\n"                                                                                                   \
	"  local slot = ceil(window / SLOTS)\n"                                                                                           \
	"  local cur = now_s - now_s % slot\n"                                                                                            \
	"  return slot, cur, cur - SLOTS * slot\n"                                                                                        \
	"end\n"                                                                                                                           \
	"-- regrid - a counter's slots (start, count, ...) and members (member, start, ...) of slot\n"                                    \
	"-- width ow on the grid of window: each moves to the slot of the new grid that ends no\n"                                        \
	"-- earlier than its own (a slot counts until its END falls out of the window: judging it\n"                                      \
	"-- by its start would let a shortened window over-admit), and what no longer counts is\n"                                        \
	"-- dropped. A sum counts its slots, a distinct count its members. Returns the slots, the\n"                                      \
	"-- members, their total, how many members and the newest slot.\n"                                                                \
	"local function regrid(kind, ow, slots, members, window)\n"                                                                       \
	"  local slot, cur, since = grid(window)\n"                                                                                       \
	"  local r = { slots = {}, members = {}, total = 0, nm = 0, newest = false }\n"                                                   \
	"  local function place(at, add)\n"                                                                                               \
	"    at = ceil((at + ow) / slot) * slot - slot\n"                                                                                 \
	"    if at < since then return false end\n"                                                                                       \
	"    r.slots[at] = (r.slots[at] or 0) + add\n"                                                                                    \
	"    r.total = r.total + add\n"                                                                                                   \
	"    if not r.newest or at > r.newest then r.newest = at end\n"                                                                   \
	"    return at\n"                                                                                                                 \
	"  end\n"                                                                                                                         \
	"  if kind == 's' then\n"                                                                                                         \
	"    for k = 1, #slots, 2 do place(slots[k], slots[k + 1]) end\n"                                                                 \
	"  else\n"                                                                                                                        \
	"    for k = 1, #members, 2 do\n"                                                                                                 \
	"      local at = place(members[k + 1], 1)\n"                                                                                     \
	"      if at then r.members[members[k]], r.nm = at, r.nm + 1 end\n"                                                               \
	"    end\n"                                                                                                                       \
	"  end\n"                                                                                                                         \
	"  return r\n"                                                                                                                    \
	"end\n"                                                                                                                           \
	"-- ends - when a counter stops mattering: its newest slot stops counting, or its lock ends\n"                                    \
	"local function ends(kc, w, newest, lu)\n"                                                                                        \
	"  local e = 0\n"                                                                                                                 \
	"  if kc ~= 0 and w > 0 then e = newest + (SLOTS + 1) * ceil(w / SLOTS) end\n"                                                    \
	"  if lu > e then e = lu end\n"                                                                                                   \
	"  return e\n"                                                                                                                    \
	"end\n"                                                                                                                           \
	"-- fields - a principal's hash (HGETALL) by counter: name -> { h = header, s = { start,\n"                                       \
	"-- count, ... }, m = { member, start, ... }, names = its fields }\n"                                                             \
	"local function fields(h)\n"                                                                                                      \
	"  local by = {}\n"                                                                                                               \
	"  for j = 1, #h, 2 do\n"                                                                                                         \
	"    local f = h[j]\n"                                                                                                            \
	"    local sp = string.find(f, ' ', 1, true)\n"                                                                                   \
	"    local name = sp and string.sub(f, 1, sp - 1) or f\n"                                                                         \
	"    if name ~= '@' then\n"                                                                                                       \
	"      local c = by[name]\n"                                                                                                      \
	"      if not c then c = { s = {}, m = {}, names = {} }; by[name] = c end\n"                                                      \
	"      c.names[#c.names + 1] = f\n"                                                                                               \
	"      if not sp then c.h = h[j + 1]\n"                                                                                           \
	"      else\n"                                                                                                                    \
	"        local tag = string.sub(f, sp + 1, sp + 1)\n"                                                                             \
	"        if tag == 's' then\n"                                                                                                    \
	"          c.s[#c.s + 1] = tonumber(string.sub(f, sp + 2)); c.s[#c.s + 1] = tonumber(h[j + 1]) or 0\n"                            \
	"        elseif tag == 'm' then\n"                                                                                                \
	"          c.m[#c.m + 1] = string.sub(f, sp + 2); c.m[#c.m + 1] = tonumber(h[j + 1]) or 0\n"                                      \
	"        end\n"                                                                                                                   \
	"      end\n"                                                                                                                     \
	"    end\n"                                                                                                                       \
	"  end\n"                                                                                                                         \
	"  return by\n"                                                                                                                   \
	"end\n"                                                                                                                           \
	"-- counter - a counter of fields() on its own grid: kind code, mark, window, the regrid,\n"                                      \
	"-- the lock's end; a header that is not there (or a lock alone) has kind 0\n"                                                    \
	"local function counter(c)\n"                                                                                                     \
	"  if not c.h then return 0, false, 0, false, 0 end\n"                                                                            \
	"  local kc, x, w, _, _, newest, q, lu = unpack_h(HDR, c.h)\n"                                                                    \
	"  if kc == 0 or w == 0 then return 0, false, 0, false, lu end\n"                                                                 \
	"  local slots = c.s\n"                                                                                                           \
	"  if kc == 1 then slots = { newest, q }; for k = 1, #c.s do slots[k + 2] = c.s[k] end end\n"                                     \
	"  local ow = ceil(w / SLOTS)\n"                                                                                                  \
	"  return kc, x == 1, w, regrid(kc == 1 and 's' or 'd', ow, slots, c.m, w), lu\n"                                                 \
	"end\n"                                                                                                                           \
	"-- take_over - a principal kept by an older layout (base \"c:\" name hashes, base \"l:\" name\n"                                 \
	"-- locks, base \"i\" their index) moved into its hash k, exactly: every counter on its own\n"                                    \
	"-- grid, its lock and mark. True when there was one.\n"                                                                          \
	"local function take_over(k)\n"                                                                                                   \
	"  local base = string.sub(k, 1, -2)\n"                                                                                           \
	"  local ik = base .. 'i'\n"                                                                                                      \
	"  if call('EXISTS', ik) == 0 then return false end\n"                                                                            \
	"  local set, ns, top = { END, '0' }, 2, 0\n"                                                                                     \
	"  for _, name in ipairs(call('SMEMBERS', ik)) do\n"                                                                              \
	"    local ck, lk = base .. 'c:' .. name, base .. 'l:' .. name\n"                                                                 \
	"    local h = call('HGETALL', ck)\n"                                                                                             \
	"    local f, slots, members = {}, {}, {}\n"                                                                                      \
	"    for j = 1, #h, 2 do\n"                                                                                                       \
	"      local fn, v = h[j], h[j + 1]\n"                                                                                            \
	"      f[fn] = v\n"                                                                                                               \
	"      local tag = string.sub(fn, 1, 1)\n"                                                                                        \
	"      if tag == 's' then slots[#slots + 1] = tonumber(string.sub(fn, 2)); slots[#slots + 1] = tonumber(v) or 0\n"                \
	"      elseif tag == 'm' then members[#members + 1] = string.sub(fn, 2); members[#members + 1] = tonumber(v) or 0 end\n"          \
	"    end\n"                                                                                                                       \
	"    if f.q and f.c then slots[#slots + 1] = tonumber(f.c); slots[#slots + 1] = tonumber(f.q) or 0 end\n"                         \
	"    local lu = math.max(tonumber(f.L) or 0, tonumber(call('GET', lk) or '0') or 0)\n"                                            \
	"    if lu <= now_s then lu = 0 end\n"                                                                                            \
	"    local w, kind = tonumber(f.w), f.k\n"                                                                                        \
	"    local kc = kind == 's' and 1 or kind == 'd' and 2 or 0\n"                                                                    \
	"    local marked = f.x == '1' or f.v == nil and f.x ~= nil\n"                                                                    \
	"    if kc == 0 or not w then kc, w = 0, 0 end\n"                                                                                 \
	"    local r = kc ~= 0 and regrid(kind, ceil(w / SLOTS), slots, members, w) or { slots = {}, members = {}, total = 0, nm = 0 }\n" \
	"    local slot, _, since = 0, 0, 0\n"                                                                                            \
	"    if kc ~= 0 then slot, _, since = grid(w) end\n"                                                                              \
	"    local newest, q = r.newest or since - slot, 0\n"                                                                             \
	"    if r.newest then q, r.slots[r.newest] = r.slots[r.newest], nil end\n"                                                        \
	"    local e = ends(kc, w, newest, lu)\n"                                                                                         \
	"    if r.newest or lu > 0 then\n"                                                                                                \
	"      set[ns + 1], set[ns + 2], ns = name, pack(HDR, kc, marked and 1 or 0, w, r.total, since, newest, q, lu, r.nm), ns + 2\n"   \
	"      for at, v in pairs(r.slots) do set[ns + 1], set[ns + 2], ns = name .. ' s' .. I(at), I(v), ns + 2 end\n"                   \
	"      for m, at in pairs(r.members) do set[ns + 1], set[ns + 2], ns = name .. ' m' .. m, I(at), ns + 2 end\n"                    \
	"      if e > top then top = e end\n"                                                                                             \
	"    end\n"                                                                                                                       \
	"    call('DEL', ck, lk)\n"                                                                                                       \
	"  end\n"                                                                                                                         \
	"  call('DEL', ik)\n"                                                                                                             \
	"  if top <= now_s then return false end\n"                                                                                       \
	"  set[2] = I(top)\n"                                                                                                             \
	"  for j = 1, ns, 1000 do call('HSET', k, unpack(set, j, math.min(j + 999, ns))) end\n"                                           \
	"  call('EXPIREAT', k, set[2])\n"                                                                                                 \
	"  return true\n"                                                                                                                 \
	"end\n"

/*
 * decide: KEYS[j] the hash of principal j; ARGV commit ("1"), then three
 * per check: SPEC (principal j, kind, dry_run, add, max, window, lock),
 * member, escaped name. Answers OUT for each check, in one string: status,
 * first_exceeded, lock_started, count, until. store.h has the rules.
 * Without commit (a peek) it writes nothing but a take-over.
 */
static const char decide[] = LUA_COMMON
    "local commit = ARGV[1] == '1'\n"
    "local n = (#ARGV - 1) / 3\n"
    "local np = #KEYS\n"
    "local min = math.min\n"
    "-- one HMGET a principal: when its hash ends, each check's header (and member)\n"
    "local want, pos = {}, {}\n"
    "for j = 1, np do want[j] = { END } end\n"
    "for i = 1, n do\n"
    "  local a = 2 + (i - 1) * 3\n"
    "  local j, kc = unpack_h('<I4B', ARGV[a])\n"
    "  local w, name = want[j], ARGV[a + 2]\n"
    "  local p = #w + 1\n"
    "  w[p] = name\n"
    "  if kc == 2 then w[p + 1] = name .. ' m' .. ARGV[a + 1] end\n"
    "  pos[i] = p\n"
    "end\n"
    "local got, keyend = {}, {}\n"
    "for j = 1, np do\n"
    "  local r = call('HMGET', KEYS[j], unpack(want[j]))\n"
    "  if not r[1] and take_over(KEYS[j]) then r = call('HMGET', KEYS[j], unpack(want[j])) end\n"
    "  got[j], keyend[j] = r, tonumber(r[1]) or 0\n"
    "end\n"
    "-- rebuild - counter name of principal j from its fields in the hash (HGETALL), on the grid\n"
    "-- of window: after a changed window or kind, or when stale members pile up. Returns the\n"
    "-- rebuilt slots and members (written anew), its old fields (all deleted), its total, the\n"
    "-- newest slot's count, members, the newest slot, when member was seen, the exceeded mark.\n"
    "local function rebuild(j, name, kc, member, window)\n"
    "  local f = fields(call('HGETALL', KEYS[j]))[name]\n"
    "  local r = { slots = {}, members = {}, total = 0, nm = 0, newest = false }\n"
    "  local marked, q = false, 0\n"
    "  local k, x, w, _, _, newest, qq = unpack_h(HDR, f.h)\n"
    "  if k == kc and w > 0 then\n"
    "    local slots = f.s\n"
    "    if kc == 1 then\n"
    "      slots = { newest, qq }\n"
    "      for s = 1, #f.s do slots[s + 2] = f.s[s] end\n"
    "    end\n"
    "    r = regrid(kc == 1 and 's' or 'd', ceil(w / SLOTS), slots, f.m, window)\n"
    "    marked = x == 1\n"
    "  end\n"
    "  if r.newest then q, r.slots[r.newest] = r.slots[r.newest], nil end\n"
    "  return r, f.names, r.total, q, r.nm, r.newest, kc == 2 and r.members[member] or false, marked\n"
    "end\n"
    "-- walk - the slots of counter name that fell out of the window, from its oldest (at most\n"
    "-- SLOTS: the newest is never more than SLOTS slots past it): subtracted from total and\n"
    "-- deleted, each once; when nothing counts any more they go unread. Returns the total\n"
    "-- and the fields to delete.\n"
    "local function walk(j, name, oldest, newest, since, slot, total)\n"
    "  local names, nn = {}, 0\n"
    "  for at = oldest, min(since, newest) - slot, slot do\n"
    "    nn = nn + 1\n"
    "    names[nn] = name .. ' s' .. I(at)\n"
    "  end\n"
    "  if newest < since then return 0, names end\n"
    "  local stale, ns = {}, 0\n"
    "  if nn > 0 then\n"
    "    local v = call('HMGET', KEYS[j], unpack(names, 1, nn))\n"
    "    for k = 1, nn do\n"
    "      if v[k] then\n"
    "        total = total - tonumber(v[k])\n"
    "        ns = ns + 1\n"
    "        stale[ns] = names[k]\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  return total, stale\n"
    "end\n"
    "-- what a decision writes, per principal: fields to set, to delete and to add to, and\n"
    "-- how long its hash must live at least\n"
    "local W, out\n"
    "local function start()\n"
    "  W, out = {}, {}\n"
    "  for j = 1, np do\n"
    "    W[j] = { set = {}, ns = 0, del = {}, nd = 0, inc = {}, ni = 0, top = 0 }\n"
    "    -- a new hash: END first, as HMGET looks for it first (a small hash is a listpack,\n"
    "    -- searched from its head)\n"
    "    if keyend[j] == 0 then W[j].set[1], W[j].set[2], W[j].ns = END, false, 2 end\n"
    "  end\n"
    "end\n"
    "local function put(w, f, v)\n"
    "  local ns = w.ns\n"
    "  w.set[ns + 1], w.set[ns + 2], w.ns = f, v, ns + 2\n"
    "end\n"
    "local function del(w, names)\n"
    "  local d, nd = w.del, w.nd\n"
    "  for k = 1, #names do d[nd + k] = names[k] end\n"
    "  w.nd = nd + #names\n"
    "end\n"
    "-- bump - add d to the count of the older (not newest) slot at\n"
    "local function bump(w, rw, name, at, d)\n"
    "  if rw then rw.slots[at] = (rw.slots[at] or 0) + d\n"
    "  else\n"
    "    local ni = w.ni\n"
    "    w.inc[ni + 1], w.inc[ni + 2], w.ni = name .. ' s' .. I(at), d, ni + 2\n"
    "  end\n"
    "end\n"
    "-- check - check i as found, judged, and with commit what it writes: true, before any of\n"
    "-- that, when it refuses the decision and refuse is not yet known (the caller then goes\n"
    "-- over every check again with refuse). The header's total covers the slots from its\n"
    "-- oldest on; the newest slot's count is in the header, each older slot has a field\n"
    "-- \"name s<start>\". Another window or kind, or too many stale members, is rebuilt. No\n"
    "-- header: a new counter. Committed, a check drops what fell out of the window, counts\n"
    "-- unless the decision is refused (into the current slot: the newest, a new newest whose\n"
    "-- predecessor gets its field, or one before the newest after a clock stepped back or a\n"
    "-- coarser rebuild; a distinct member once, moved from the slot it was last seen in),\n"
    "-- marks an excess, starts a lock. Its header is written when anything in it changed, and\n"
    "-- the hash lives as long as the newest slot plus SLOTS + 1 slots, or the lock.\n"
    "local function check(i, refuse)\n"
    "  local a = 2 + (i - 1) * 3\n"
    "  local j, kc, dry, add, max, window, lock = unpack_h(SPEC, ARGV[a])\n"
    "  local name, r, p = ARGV[a + 2], got[j], pos[i]\n"
    "  local h = r[p]\n"
    "  local slot = ceil(window / SLOTS)\n"
    "  local cur = now_s - now_s % slot\n"
    "  local since = cur - SLOTS * slot\n"
    "  local total, q, nm, newest, seen_at, lu, marked, o = 0, 0, 0, false, false, 0, false, since\n"
    "  local rw, old, stale = false, false, false\n"
    "  if h then\n"
    "    local k, x, w, t, ol, nw, qq, L, m = unpack_h(HDR, h)\n"
    "    lu = L\n"
    "    if k ~= kc or w ~= window or m > 2 * t + 64\n"
    "      or ol < since and min(since, nw) - ol > (SLOTS + 1) * slot then\n"
    "      rw, old, total, q, nm, newest, seen_at, marked = rebuild(j, name, kc, ARGV[a + 1], window)\n"
    "    else\n"
    "      q, nm, newest, marked, o = qq, m, nw, x == 1, ol\n"
    "      if kc == 2 then seen_at = tonumber(r[p + 1]) or false end\n"
    "      if ol < since then\n"
    "        t, stale = walk(j, name, ol, nw, since, slot, t)\n"
    "        o = since\n"
    "        if nw < since then q = 0 end\n"
    "      end\n"
    "      total = t\n"
    "    end\n"
    "  end\n"
    "  local seen = seen_at and seen_at >= since\n"
    "  local after = total + 1\n"
    "  if kc == 1 then after = total + add elseif seen then after = total end\n"
    "  local status, untl = 0, 0\n"
    "  if lu > now_s then status, untl = 2, lu elseif after > max then status = 1 end\n"
    "  if status ~= 0 and dry == 0 and not refuse then return true end\n"
    "  if not commit then\n"
    "    out[i] = pack(OUT, status, 0, 0, total, untl)\n"
    "    return false\n"
    "  end\n"
    "  local w = W[j]\n"
    "  local first, started, count = 0, 0, total\n"
    "  local changed = stale or old\n"
    "  if old then del(w, old) end\n"
    "  if stale then del(w, stale) end\n"
    "  local marked0, lu0 = marked, lu\n"
    "  if not refuse then\n"
    "    local d = add\n"
    "    if kc == 2 then\n"
    "      d = 0\n"
    "      if not (seen and seen_at >= cur) then -- else: seen in this slot already\n"
    "        d = 1\n"
    "        if seen then -- moves from its slot to this one: the total stays\n"
    "          total = total - 1\n"
    "          if seen_at == newest then q = q - 1 else bump(w, rw, name, seen_at, -1) end\n"
    "        elseif not seen_at then\n"
    "          nm = nm + 1\n"
    "        end\n"
    "        if rw then rw.members[ARGV[a + 1]] = cur else put(w, name .. ' m' .. ARGV[a + 1], I(cur)) end\n"
    "        changed = true\n"
    "      end\n"
    "    end\n"
    "    if d > 0 then\n"
    "      total = total + d\n"
    "      if newest == cur then\n"
    "        q = q + d\n"
    "      elseif not newest or cur > newest then\n"
    "        if newest and q > 0 and newest >= since then\n"
    "          if rw then rw.slots[newest] = q else put(w, name .. ' s' .. I(newest), I(q)) end\n"
    "        end\n"
    "        newest, q = cur, d\n"
    "      else\n"
    "        bump(w, rw, name, cur, d)\n"
    "      end\n"
    "      changed = true\n"
    "    end\n"
    "    count = after\n"
    "    if status == 0 then marked = false end\n"
    "  end\n"
    "  local xnew = false\n"
    "  if status == 1 then\n"
    "    if not marked then first, marked, xnew = 1, true, true end\n"
    "    if lock > 0 and dry == 0 then untl, started, lu = now_s + lock, 1, now_s + lock end\n"
    "  end\n"
    "  out[i] = pack(OUT, status, first, started, count, untl)\n"
    "  if not (changed or xnew or marked ~= marked0 or lu ~= lu0) then return false end\n"
    "  local ends = 0\n"
    "  if newest and newest >= since then ends = newest + (SLOTS + 1) * slot end\n"
    "  if lu > now_s and lu > ends then ends = lu end\n"
    "  if xnew and cur + (SLOTS + 1) * slot > ends then ends = cur + (SLOTS + 1) * slot end\n"
    "  if rw and ends <= now_s then return false end -- nothing of it lives\n"
    "  put(w, name, pack(HDR, kc, marked and 1 or 0, window, total, o, newest or since - slot, q,\n"
    "    lu > now_s and lu or 0, nm))\n"
    "  if rw then\n"
    "    for at, v in pairs(rw.slots) do\n"
    "      if v > 0 then put(w, name .. ' s' .. I(at), I(v)) end\n"
    "    end\n"
    "    for m, at in pairs(rw.members) do put(w, name .. ' m' .. m, I(at)) end\n"
    "  end\n"
    "  if ends > w.top then w.top = ends end\n"
    "  return false\n"
    "end\n"
    "-- every check as if none refuses; when one does, over again knowing it\n"
    "start()\n"
    "for i = 1, n do\n"
    "  if check(i, false) then\n"
    "    start()\n"
    "    for k = 1, n do check(k, true) end\n"
    "    break\n"
    "  end\n"
    "end\n"
    "-- the writes, a principal at a time: its stale fields, what changed, and its expiry only\n"
    "-- when it moves later (END, always there, keeps the hash while its fields come and go)\n"
    "for j = 1, np do\n"
    "  local w, k = W[j], KEYS[j]\n"
    "  if w.nd > 0 then call('HDEL', k, unpack(w.del, 1, w.nd)) end\n"
    "  local s0 = 1\n"
    "  if keyend[j] == 0 then\n"
    "    if w.top > 0 then w.set[2] = I(w.top) else s0 = 3 end\n"
    "  elseif w.top > keyend[j] then\n"
    "    put(w, END, I(w.top))\n"
    "  end\n"
    "  for s = s0, w.ns, 1000 do call('HSET', k, unpack(w.set, s, min(s + 999, w.ns))) end\n"
    "  for s = 1, w.ni, 2 do call('HINCRBY', k, w.inc[s], I(w.inc[s + 1])) end\n"
    "  if w.top > keyend[j] then call('EXPIREAT', k, I(w.top)) end\n"
    "end\n"
    "return table.concat(out)\n";

/*
 * status: KEYS[1] the principal's hash. One entry per counter that counts
 * or is locked: escaped name, kind, count, window, lock end (0), then its
 * members (distinct), each counter read whole on its own grid (regrid):
 * the same count as decide's running total, and the members that count.
 */
static const char status[] = LUA_COMMON
    "take_over(KEYS[1])\n"
    "local out = {}\n"
    "for name, c in pairs(fields(call('HGETALL', KEYS[1]))) do\n"
    "  local kc, _, w, r, lu = counter(c)\n"
    "  if lu <= now_s then lu = 0 end\n"
    "  local count, members = 0, {}\n"
    "  if kc ~= 0 then\n"
    "    count = r.total\n"
    "    for m in pairs(r.members) do members[#members + 1] = m end\n"
    "    table.sort(members)\n"
    "  end\n"
    "  if count > 0 or lu > 0 then out[#out + 1] = { name, kc == 2 and 'd' or 's', count, w, lu, members } end\n"
    "end\n"
    "return out\n";

/* unlock: KEYS[1] the principal's hash. How many locks were lifted. */
static const char unlock[] = LUA_COMMON
    "local k = KEYS[1]\n"
    "take_over(k)\n"
    "local n, top, set, ns = 0, 0, {}, 0\n"
    "for name, c in pairs(fields(call('HGETALL', k))) do\n"
    "  if c.h then\n"
    "    local kc, x, w, total, oldest, newest, q, lu, nm = unpack_h(HDR, c.h)\n"
    "    if lu > now_s then n = n + 1 end\n"
    "    if lu > 0 then set[ns + 1], set[ns + 2], ns = name, pack(HDR, kc, x, w, total, oldest, newest, q, 0, nm), ns + 2 end\n"
    "    local e = ends(kc, w, newest, 0)\n"
    "    if e > top then top = e end\n"
    "  end\n"
    "end\n"
    "-- the hash lives as long as its counts again\n"
    "if top <= now_s then call('DEL', k)\n"
    "elseif ns > 0 then\n"
    "  call('HSET', k, END, I(top), unpack(set, 1, ns))\n"
    "  call('EXPIREAT', k, I(top))\n"
    "end\n"
    "return n\n";

/* reset: KEYS[1] the principal's hash. How many counters were forgotten; locks stay. */
static const char reset[] = LUA_COMMON
    "local k = KEYS[1]\n"
    "take_over(k)\n"
    "local n, top, del, nd, set, ns = 0, 0, {}, 0, {}, 0\n"
    "for name, c in pairs(fields(call('HGETALL', k))) do\n"
    "  local kc, lu, newest, w, _ = 0, 0, 0, 0, 0\n"
    "  if c.h then kc, _, w, _, _, newest, _, lu = unpack_h(HDR, c.h) end\n"
    "  if kc ~= 0 and ends(kc, w, newest, 0) > now_s then n = n + 1 end\n"
    "  for j = 1, #c.names do del[nd + 1], nd = c.names[j], nd + 1 end\n"
    "  if lu > now_s then -- the lock stays, alone\n"
    "    set[ns + 1], set[ns + 2], ns = name, pack(HDR, 0, 0, 0, 0, 0, 0, 0, lu, 0), ns + 2\n"
    "    if lu > top then top = lu end\n"
    "  end\n"
    "end\n"
    "if top == 0 then call('DEL', k)\n"
    "else\n"
    "  if nd > 0 then call('HDEL', k, unpack(del, 1, nd)) end\n"
    "  call('HSET', k, END, I(top), unpack(set, 1, ns))\n"
    "  call('EXPIREAT', k, I(top))\n"
    "end\n"
    "return n\n";

const char *const rscript_text[RSCRIPT_N] = {decide, status, unlock, reset};
