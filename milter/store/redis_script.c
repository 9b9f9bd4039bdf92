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
    "-- the checks, from their ARGV; and one HMGET a principal: when its hash ends, each\n"
    "-- check's header (and member)\n"
    "local c, want = {}, {}\n"
    "for j = 1, np do want[j] = { END } end\n"
    "for i = 1, n do\n"
    "  local a = 2 + (i - 1) * 3\n"
    "  local j, kc, dry, add, max, window, lock = unpack_h(SPEC, ARGV[a])\n"
    "  local slot = ceil(window / SLOTS)\n"
    "  local cur = now_s - now_s % slot\n"
    "  local name, w = ARGV[a + 2], want[j]\n"
    "  local e = { j = j, kc = kc, dry = dry == 1, add = add, max = max, window = window,\n"
    "    lock = lock, name = name, member = ARGV[a + 1], mf = false, pos = #w + 1, status = 0,\n"
    "    untl = 0, slot = slot, cur = cur, since = cur - SLOTS * slot, lu = 0, marked = false,\n"
    "    total = 0, nm = 0, q = 0, after = 0, newest = false, seen_at = false, seen = false,\n"
    "    rewrite = false, stale = false, nstale = 0, old = false, o = cur - SLOTS * slot }\n"
    "  w[e.pos] = name\n"
    "  if kc == 2 then\n"
    "    e.mf = name .. ' m' .. e.member\n"
    "    w[e.pos + 1] = e.mf\n"
    "  end\n"
    "  c[i] = e\n"
    "end\n"
    "local got, keyend = {}, {}\n"
    "for j = 1, np do\n"
    "  local r = call('HMGET', KEYS[j], unpack(want[j]))\n"
    "  if not r[1] and take_over(KEYS[j]) then r = call('HMGET', KEYS[j], unpack(want[j])) end\n"
    "  got[j], keyend[j] = r, tonumber(r[1]) or 0\n"
    "end\n"
    "-- rebuild - check e's counter from its fields in the hash (HGETALL), on e's grid: after a\n"
    "-- changed window or kind, or when stale members pile up; every old field of it goes\n"
    "local function rebuild(e)\n"
    "  local f = fields(call('HGETALL', KEYS[e.j]))[e.name]\n"
    "  local r = { slots = {}, members = {}, total = 0, nm = 0, newest = false }\n"
    "  e.old, e.marked = f and f.names or false, false\n"
    "  if f and f.h then\n"
    "    local kc, x, w, _, _, newest, q, lu = unpack_h(HDR, f.h)\n"
    "    if kc == e.kc and w > 0 then\n"
    "      local slots = f.s\n"
    "      if kc == 1 then\n"
    "        slots = { newest, q }\n"
    "        for k = 1, #f.s do slots[k + 2] = f.s[k] end\n"
    "      end\n"
    "      r = regrid(kc == 1 and 's' or 'd', ceil(w / SLOTS), slots, f.m, e.window)\n"
    "      e.marked = x == 1\n"
    "    end\n"
    "    if lu > e.lu then e.lu = lu end\n"
    "  end\n"
    "  e.rewrite = r\n"
    "  e.total, e.nm, e.newest = r.total, r.nm, r.newest\n"
    "  if r.newest then e.q, r.slots[r.newest] = r.slots[r.newest], nil end\n"
    "  if e.kc == 2 then e.seen_at = r.members[e.member] or false end\n"
    "end\n"
    "-- walk - the slots of e that fell out of the window, from its oldest (at most SLOTS: the\n"
    "-- newest is never more than SLOTS slots past it): subtracted from total and deleted, each\n"
    "-- once; when nothing counts any more they go unread\n"
    "local function walk(e, oldest, total)\n"
    "  local names, nn = {}, 0\n"
    "  for at = oldest, math.min(e.since, e.newest) - e.slot, e.slot do\n"
    "    nn = nn + 1\n"
    "    names[nn] = e.name .. ' s' .. I(at)\n"
    "  end\n"
    "  if e.newest < e.since then\n"
    "    e.q, e.stale, e.nstale = 0, names, nn\n"
    "    return 0\n"
    "  end\n"
    "  local stale, ns = {}, 0\n"
    "  if nn > 0 then\n"
    "    local v = call('HMGET', KEYS[e.j], unpack(names, 1, nn))\n"
    "    for k = 1, nn do\n"
    "      if v[k] then\n"
    "        total = total - tonumber(v[k])\n"
    "        ns = ns + 1\n"
    "        stale[ns] = names[k]\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  e.stale, e.nstale = stale, ns\n"
    "  return total\n"
    "end\n"
    "-- read - check e as found. The header's total covers the slots from its oldest on; the\n"
    "-- newest slot's count is in the header, each older slot has a field \"name s<start>\".\n"
    "-- Another window or kind, or too many stale members, is rebuilt. No header: a new counter.\n"
    "local function read(e)\n"
    "  local r = got[e.j]\n"
    "  local h = r[e.pos]\n"
    "  if not h then return end\n"
    "  local k, x, w, total, oldest, newest, q, lu, nm = unpack_h(HDR, h)\n"
    "  e.lu, e.marked = lu, x == 1\n"
    "  if k ~= e.kc or w ~= e.window or nm > 2 * total + 64\n"
    "    or oldest < e.since and math.min(e.since, newest) - oldest > (SLOTS + 1) * e.slot then\n"
    "    return rebuild(e)\n"
    "  end\n"
    "  e.newest, e.q, e.nm, e.o = newest, q, nm, oldest\n"
    "  if e.kc == 2 then e.seen_at = tonumber(r[e.pos + 1]) or false end\n"
    "  if oldest < e.since then\n"
    "    total = walk(e, oldest, total)\n"
    "    e.o = e.since\n"
    "  end\n"
    "  e.total = total\n"
    "end\n"
    "-- judge - check e's status\n"
    "local function judge(e)\n"
    "  e.seen = e.seen_at and e.seen_at >= e.since\n"
    "  if e.kc == 1 then e.after = e.total + e.add\n"
    "  elseif e.seen then e.after = e.total\n"
    "  else e.after = e.total + 1 end\n"
    "  if e.lu > now_s then e.status, e.untl = 2, e.lu\n"
    "  elseif e.after > e.max then e.status = 1 end\n"
    "end\n"
    "-- what a decision writes, per principal: fields to set and to delete, and how long its\n"
    "-- hash must live at least\n"
    "local W = {}\n"
    "for j = 1, np do\n"
    "  W[j] = { set = {}, ns = 0, del = {}, nd = 0, top = 0 }\n"
    "  -- a new hash: END first, as HMGET looks for it first (a small hash is a listpack,\n"
    "  -- searched from its head)\n"
    "  if keyend[j] == 0 then W[j].set[1], W[j].set[2], W[j].ns = END, false, 2 end\n"
    "end\n"
    "local function put(w, f, v) w.set[w.ns + 1], w.set[w.ns + 2], w.ns = f, v, w.ns + 2 end\n"
    "-- bump - add d to the count of the older (not newest) slot at\n"
    "local function bump(e, at, d)\n"
    "  if e.rewrite then e.rewrite.slots[at] = (e.rewrite.slots[at] or 0) + d\n"
    "  else call('HINCRBY', KEYS[e.j], e.name .. ' s' .. I(at), I(d)) end\n"
    "end\n"
    "-- slot_in - count d in the current slot: the newest (q), a new newest (the old one gets\n"
    "-- its field), or one before the newest (a clock stepped back, a rebuilt coarser slot)\n"
    "local function slot_in(e, w, d)\n"
    "  if e.newest == e.cur then\n"
    "    e.q = e.q + d\n"
    "  elseif not e.newest or e.cur > e.newest then\n"
    "    if e.newest and e.q > 0 and e.newest >= e.since then\n"
    "      if e.rewrite then e.rewrite.slots[e.newest] = e.q\n"
    "      else put(w, e.name .. ' s' .. I(e.newest), I(e.q)) end\n"
    "    end\n"
    "    e.newest, e.q = e.cur, d\n"
    "    return true\n"
    "  else\n"
    "    bump(e, e.cur, d)\n"
    "  end\n"
    "  return false\n"
    "end\n"
    "-- count - e admitted: a sum adds to the current slot; a distinct member is counted once,\n"
    "-- moved to the current slot when it was last seen in an older one\n"
    "local function count(e, w)\n"
    "  if e.kc == 1 then\n"
    "    e.total = e.total + e.add\n"
    "    return slot_in(e, w, e.add)\n"
    "  end\n"
    "  if e.seen and e.seen_at >= e.cur then return false end -- seen in this slot already\n"
    "  if e.seen then -- moves from its slot to this one: the total stays\n"
    "    if e.seen_at == e.newest then e.q = e.q - 1 else bump(e, e.seen_at, -1) end\n"
    "  else\n"
    "    e.total = e.total + 1\n"
    "    if not e.seen_at then e.nm = e.nm + 1 end\n"
    "  end\n"
    "  if e.rewrite then e.rewrite.members[e.member] = e.cur else put(w, e.mf, I(e.cur)) end\n"
    "  return slot_in(e, w, 1) or true\n"
    "end\n"
    "-- store - commit one check: drop what fell out of the window, count unless the decision\n"
    "-- is refused, mark an excess, start a lock; its header is written when anything in it\n"
    "-- changed, and the hash lives as long as the newest slot plus SLOTS + 1 slots, or the lock\n"
    "local function store(e, refuse)\n"
    "  local w = W[e.j]\n"
    "  local first, started, n_after = 0, 0, e.total\n"
    "  local t0, q0, n0, x0, L0 = e.total, e.q, e.nm, e.marked, e.lu\n"
    "  local changed, xnew = e.stale or e.old, false\n"
    "  for k = 1, e.old and #e.old or 0 do w.del[w.nd + 1], w.nd = e.old[k], w.nd + 1 end\n"
    "  for k = 1, e.nstale do w.del[w.nd + 1], w.nd = e.stale[k], w.nd + 1 end\n"
    "  if not refuse then\n"
    "    changed = count(e, w) or changed\n"
    "    n_after = e.after\n"
    "    if e.status == 0 then e.marked = false end\n"
    "  end\n"
    "  if e.status == 1 then\n"
    "    if not e.marked then first, e.marked, xnew = 1, true, true end\n"
    "    if e.lock > 0 and not e.dry then e.untl, started, e.lu = now_s + e.lock, 1, now_s + e.lock end\n"
    "  end\n"
    "  if not (changed or xnew or e.total ~= t0 or e.q ~= q0 or e.marked ~= x0 or e.nm ~= n0\n"
    "    or e.lu ~= L0) then\n"
    "    return n_after, first, started\n"
    "  end\n"
    "  local ends = 0\n"
    "  if e.newest and e.newest >= e.since then ends = e.newest + (SLOTS + 1) * e.slot end\n"
    "  if e.lu > now_s and e.lu > ends then ends = e.lu end\n"
    "  if xnew and e.cur + (SLOTS + 1) * e.slot > ends then ends = e.cur + (SLOTS + 1) * e.slot end\n"
    "  if e.rewrite and ends <= now_s then return n_after, first, started end -- nothing of it lives\n"
    "  put(w, e.name, pack(HDR, e.kc, e.marked and 1 or 0, e.window, e.total, e.o,\n"
    "    e.newest or e.since - e.slot, e.q, e.lu > now_s and e.lu or 0, e.nm))\n"
    "  if e.rewrite then\n"
    "    for at, v in pairs(e.rewrite.slots) do\n"
    "      if v > 0 then put(w, e.name .. ' s' .. I(at), I(v)) end\n"
    "    end\n"
    "    for m, at in pairs(e.rewrite.members) do put(w, e.name .. ' m' .. m, I(at)) end\n"
    "  end\n"
    "  if ends > w.top then w.top = ends end\n"
    "  return n_after, first, started\n"
    "end\n"
    "local refuse = false\n"
    "for i = 1, n do\n"
    "  local e = c[i]\n"
    "  read(e)\n"
    "  judge(e)\n"
    "  if e.status ~= 0 and not e.dry then refuse = true end\n"
    "end\n"
    "-- the answer: status, first_exceeded, lock_started, count, until of each check (OUT)\n"
    "local out = {}\n"
    "for i = 1, n do\n"
    "  local e = c[i]\n"
    "  local n_after, first, started = e.total, 0, 0\n"
    "  if commit then n_after, first, started = store(e, refuse) end\n"
    "  out[i] = pack(OUT, e.status, first, started, n_after, e.untl)\n"
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
    "  for s = s0, w.ns, 1000 do call('HSET', k, unpack(w.set, s, math.min(s + 999, w.ns))) end\n"
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
