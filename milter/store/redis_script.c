/* redis_script.c - the server-side Lua scripts of the Redis store, as C strings */
#include "redis_script.h"

/*
 * Key layout, under base = "<prefix>{<principal>}:" (redis_keys.c):
 *   base "c:" limit  hash, one per counter and its lock; first its header,
 *                    always all there: "v" layout (2), "k" kind, "w" window
 *                    (s) of its grid, "t" total of the slots from "o" on,
 *                    "o" the oldest slot start that may still have a field,
 *                    "c" the newest slot's start and "q" its count, "L" the
 *                    lock's end (Unix s; 0), "x" exceeded mark (1; 0), "n"
 *                    how many member fields (stale ones linger until a
 *                    compaction); then "s<start>" an older slot's count
 *                    (sums: admissions; distinct: members last seen in it)
 *                    and "m<member>" the slot start a member was last seen in;
 *                    expires when its newest slot stops counting (STORE_SLOTS
 *                    + 1 slots) or its lock ends, whichever is later
 *   base "i"         set of the limit names above (status, unlock, reset);
 *                    expires with the longest-lived key it names
 *   base "l:" limit  the old layout's lock (a string: its end); read, folded
 *                    into "L" and deleted when its counter is rebuilt
 * Limit names are escaped; no key carries max, window or lock, so a
 * changed limit keeps its history. Time is the server's (TIME): every
 * host shares one clock.
 *
 * Why this layout (issue 14): Redis runs one script at a time, so the
 * script's own time bounds every host's decisions. The first layout read
 * the whole hash (HGETALL of up to 96 slots, or of every member) and the
 * lock key for each check, and touched the index on every new slot: about
 * 30 calls and 150 us a decision of six checks. Now a check is one HMGET
 * of the header (the lock included: it lives in the same hash, which then
 * lives as long as the lock) and one HSET of what changed; the running
 * total is kept up to date as slots fall out of the window (each deleted
 * once, by walking the grid from "o"), and the expiry and the index move
 * only when a new slot starts or a lock does. The header comes first and
 * the current slot's count is in it: a hash of up to 128 fields is a
 * listpack, searched from its head, so the hot path never scans the slots
 * (nor misses a field, which would scan them all). A changed window, kind
 * or layout is rebuilt once from HGETALL.
 */

/*
 * Shared by the scripts: the server clock in seconds, a window's grid,
 * the rebuild of a counter on a grid, the old layout's lock.
 */
#define LUA_COMMON                                                                                            \
	"local t = redis.call('TIME')\n"                                                                      \
	"local now_s = tonumber(t[1])\n"                                                                      \
	"local SLOTS = 96\n"                                                                                  \
	"-- grid - a window's slot width, the current slot's start, the oldest start that counts\n"           \
	"local function grid(window)\n"                                                                       \
	"  local slot = math.ceil(window / SLOTS)\n"                                                          \
	"  local cur = now_s - now_s % slot\n"                                                                \
	"  return slot, cur, cur - SLOTS * slot\n"                                                            \
	"end\n"                                                                                               \
	"-- regrid - a counter's fields (HGETALL) on the grid of window: each slot, or member,\n"             \
	"-- moves to the slot of the new grid that ends no earlier than its own (a slot of the old\n"         \
	"-- width w counts until its END falls out of the window: judging it by its start would\n"            \
	"-- let a shortened window over-admit), and what no longer counts is dropped. The same\n"             \
	"-- grid moves nothing; the newest slot's count is in q. Returns the slots, the members,\n"           \
	"-- their total and the newest slot.\n"                                                               \
	"local function regrid(h, kind, window)\n"                                                            \
	"  local slot, cur, since = grid(window)\n"                                                           \
	"  local f = {}\n"                                                                                    \
	"  for j = 1, #h, 2 do f[h[j]] = h[j + 1] end\n"                                                      \
	"  local r = { slots = {}, members = {}, total = 0, nm = 0, newest = false,\n"                        \
	"    lu = tonumber(f.L) or 0, marked = (f.x == '1' or f.v == nil and f.x ~= nil) and f.k == kind }\n" \
	"  if f.k ~= kind then return r end\n"                                                                \
	"  local ow = math.ceil((tonumber(f.w) or window) / SLOTS)\n"                                         \
	"  for j = 1, #h, 2 do\n"                                                                             \
	"    local name, at = h[j]\n"                                                                         \
	"    local tag = string.sub(name, 1, 1)\n"                                                            \
	"    if tag == 's' and kind == 's' then at = tonumber(string.sub(name, 2))\n"                         \
	"    elseif tag == 'm' and kind == 'd' then at = tonumber(h[j + 1]) end\n"                            \
	"    if name == 'q' and kind == 's' then at = tonumber(f.c) end\n"                                    \
	"    if at then\n"                                                                                    \
	"      at = math.ceil((at + ow) / slot) * slot - slot\n"                                              \
	"      if at >= since then\n"                                                                         \
	"        local add = 1\n"                                                                             \
	"        if kind == 's' then add = tonumber(h[j + 1]) or 0\n"                                         \
	"        else r.members[string.sub(name, 2)], r.nm = at, r.nm + 1 end\n"                              \
	"        r.slots[at] = (r.slots[at] or 0) + add\n"                                                    \
	"        r.total = r.total + add\n"                                                                   \
	"        if not r.newest or at > r.newest then r.newest = at end\n"                                   \
	"      end\n"                                                                                         \
	"    end\n"                                                                                           \
	"  end\n"                                                                                             \
	"  return r\n"                                                                                        \
	"end\n"                                                                                               \
	"-- legacy_lock - the end of a lock kept by the old layout in its own key, or 0\n"                    \
	"local function legacy_lock(lk)\n"                                                                    \
	"  return tonumber(redis.call('GET', lk) or '0') or 0\n"                                              \
	"end\n"

/*
 * decide: KEYS[3i-2] counter, KEYS[3i-1] the old layout's lock, KEYS[3i]
 * index of check i; ARGV commit, n, then per check: kind ("s"/"d"),
 * member, add, max, window, lock, dry_run ("1"), escaped name. Answers
 * five integers per check: status (0 ok, 1 exceeded, 2 locked), count,
 * until, first_exceeded, lock_started. store.h has the rules. Without
 * commit (a peek) it writes nothing.
 */
static const char decide[] = LUA_COMMON
    "local call, ceil, fmt = redis.call, math.ceil, string.format\n"
    "-- I - n as redis.call wants it: a string made by '%d' (never a number, which Redis\n"
    "-- formats with '%.17g', nor Lua's tostring or .., '%.14g': both through printf_fp);\n"
    "-- every value here is an integer, below 2^53, so the digits are the same\n"
    "local function I(n)\n"
    "  if n == 0 then return '0' elseif n == 1 then return '1' end\n"
    "  return fmt('%d', n)\n"
    "end\n"
    "-- The header fields v k w t o c q L x n are always there, written first: a small hash\n"
    "-- is a listpack, where a field is found by a scan from its head, so the hot path reads\n"
    "-- and writes only these (a missing field would cost a scan of the whole hash).\n"
    "-- read - check i as found, in one HMGET of the header (and the member). The running\n"
    "-- total t covers the slots from o on, the newest slot c's count is q (its own field\n"
    "-- s<c> is written only when a newer slot starts); the slots that fell out of the window\n"
    "-- are walked on the grid from o (at most 2 * SLOTS + 2 of them: a key lives no longer\n"
    "-- than its newest slot counts, or its lock), subtracted and deleted, each once.\n"
    "-- Anything else (no header yet, another window, kind or layout, too many lingering\n"
    "-- members) is rebuilt from HGETALL once, off the hot path. The old layout's lock is\n"
    "-- read later (judge), for all the checks that need it in one MGET.\n"
    "local function read(i)\n"
    "  local a = 3 + (i - 1) * 8\n"
    "  local kind, member, ws = ARGV[a], ARGV[a + 1], ARGV[a + 4]\n"
    "  local window = tonumber(ws)\n"
    "  local slot = ceil(window / SLOTS)\n"
    "  local cur = now_s - now_s % slot\n"
    "  local since = cur - SLOTS * slot\n"
    "  local ck = KEYS[3 * i - 2]\n"
    "  local h\n"
    "  if kind == 'd' then\n"
    "    h = call('HMGET', ck, 'v', 'k', 'w', 't', 'o', 'c', 'q', 'L', 'x', 'n', 'm' .. member)\n"
    "  else\n"
    "    h = call('HMGET', ck, 'v', 'k', 'w', 't', 'o', 'c', 'q', 'L', 'x')\n"
    "  end\n"
    "  local lu = 0\n"
    "  if h[8] ~= '0' then lu = tonumber(h[8]) or 0 end\n"
    "  -- the check's state only (what ARGV and KEYS say is read again where needed): a field\n"
    "  -- costs a hash insert; 17 make room for 32, so the rare ones come without a rehash\n"
    "  local e = { i = i, status = 0, untl = 0, slot = slot, cur = cur, since = since, lu = lu,\n"
    "    marked = h[9] == '1', total = 0, nm = 0, q = 0, after = 0, add = 0, newest = false,\n"
    "    seen_at = false, seen = false, fresh = false }\n"
    "  if h[1] == '2' and h[2] == kind and (h[3] == ws or tonumber(h[3]) == window) then\n"
    "    local total, oldest = tonumber(h[4]) or 0, tonumber(h[5]) or since\n"
    "    local newest = tonumber(h[6]) or since - slot\n"
    "    e.newest, e.q = newest, tonumber(h[7]) or 0\n"
    "    if kind == 'd' then\n"
    "      e.nm, e.seen_at = tonumber(h[10]) or 0, tonumber(h[11]) or false\n"
    "    end\n"
    "    if newest < since then -- nothing counts any more: start over, once per slot\n"
    "      e.q, e.seen_at = 0, false\n"
    "      if oldest < since then e.rewrite = { slots = {}, members = {} } end\n"
    "    elseif oldest < since and since - oldest > (2 * SLOTS + 2) * slot\n"
    "      or e.nm > 2 * total + 64 then\n"
    "      e.rewrite = regrid(call('HGETALL', ck), kind, window)\n"
    "    else\n"
    "      if oldest < since then\n"
    "        local names, nn = {}, 0\n"
    "        for at = oldest, since - slot, slot do nn = nn + 1; names[nn] = fmt('s%d', at) end\n"
    "        local got = call('HMGET', ck, unpack(names, 1, nn))\n"
    "        local stale, ns = {}, 0\n"
    "        for j = 1, nn do\n"
    "          if got[j] then\n"
    "            total = total - tonumber(got[j])\n"
    "            ns = ns + 1; stale[ns] = names[j]\n"
    "          end\n"
    "        end\n"
    "        e.stale, e.nstale = stale, ns\n"
    "      end\n"
    "      e.total = total\n"
    "    end\n"
    "  elseif h[1] == false and h[2] == false then -- no counter (maybe a lock kept by reset)\n"
    "    e.fresh, e.legacy, e.rewrite = true, true, { slots = {}, members = {} }\n"
    "    e.held = h[8] ~= false -- a lock kept by reset: the key is there\n"
    "  else -- another window or kind, or a counter of the old layout\n"
    "    if h[1] ~= '2' then e.legacy = true end\n"
    "    e.rewrite = regrid(call('HGETALL', ck), kind, window)\n"
    "  end\n"
    "  local r = e.rewrite\n"
    "  if r and not e.fresh then -- the rebuilt counter becomes the state; store() writes it\n"
    "    e.total, e.nm, e.newest = r.total or 0, r.nm or 0, r.newest or false\n"
    "    e.q, e.seen_at = 0, false\n"
    "    if r.newest then e.q, r.slots[r.newest] = r.slots[r.newest], nil end\n"
    "    if kind == 'd' then e.seen_at = r.members[member] or false end\n"
    "    if r.lu and r.lu > e.lu then e.lu = r.lu end\n"
    "    if r.marked ~= nil then e.marked = r.marked end\n"
    "  end\n"
    "  return e\n"
    "end\n"
    "-- judge - check i's status, once the old layout's lock (legacy: its end, or false when\n"
    "-- not read) is known\n"
    "local function judge(e)\n"
    "  local a = 3 + (e.i - 1) * 8\n"
    "  if e.legacy and e.legacy > e.lu then e.lu = e.legacy end\n"
    "  e.seen = e.seen_at and e.seen_at >= e.since\n"
    "  if ARGV[a] == 's' then\n"
    "    e.add = tonumber(ARGV[a + 2])\n"
    "    e.after = e.total + e.add\n"
    "  elseif e.seen then e.after = e.total\n"
    "  else e.after = e.total + 1 end\n"
    "  if e.lu > now_s then e.status, e.untl = 2, e.lu\n"
    "  elseif e.after > tonumber(ARGV[a + 3]) then e.status = 1 end\n"
    "end\n"
    "-- index - the index names this limit and lives until at (s) at least (as long as the\n"
    "-- longest key it names); called only when a key's expiry moves (a new slot, a lock):\n"
    "-- one EXPIREAT GT, and SADD only when the key is new or the index was lost. Whole\n"
    "-- seconds, as ever: EXPIREAT at is PEXPIREAT at * 1000, and EXPIRETIME < at is\n"
    "-- PEXPIRETIME < at * 1000\n"
    "local function index(ik, name, at, fresh)\n"
    "  local ats = I(at)\n"
    "  if not fresh and call('EXPIREAT', ik, ats, 'GT') == 1 then return end\n"
    "  if call('SADD', ik, name) == 1 or fresh then\n"
    "    if call('EXPIRETIME', ik) < at then call('EXPIREAT', ik, ats) end\n"
    "  end\n"
    "end\n"
    "-- The checks of a principal share its index: what store() asks of it is queued (name,\n"
    "-- at, fresh) and done once the decision is stored, one index at a time (no other key\n"
    "-- is touched in between), as index() would leave it after each in turn: one\n"
    "-- EXPIRETIME, SADD of the names, EXPIREAT of the end, instead of three calls a check\n"
    "local queued, nq = {}, 0\n"
    "local function index_later(ik, name, at, fresh)\n"
    "  local g = queued[ik]\n"
    "  if not g then g = { ik = ik, n = 0 }; queued[ik] = g; nq = nq + 1; queued[nq] = g end\n"
    "  local k = g.n\n"
    "  g[k + 1], g[k + 2], g[k + 3], g.n = name, at, fresh, k + 3\n"
    "end\n"
    "local function index_flush(g)\n"
    "  local ik = g.ik\n"
    "  local all_fresh, top = true, 0\n"
    "  for j = 1, g.n, 3 do\n"
    "    if not g[j + 2] then all_fresh = false elseif g[j + 1] > top then top = g[j + 1] end\n"
    "  end\n"
    "  if all_fresh then -- each: SADD, then the expiry moves up to its end (none counts as below)\n"
    "    local names, nn = {}, 0\n"
    "    for j = 1, g.n, 3 do nn = nn + 1; names[nn] = g[j] end\n"
    "    call('SADD', ik, unpack(names, 1, nn))\n"
    "    local tops = I(top)\n"
    "    if call('EXPIREAT', ik, tops, 'NX') == 0 then call('EXPIREAT', ik, tops, 'GT') end\n"
    "    return\n"
    "  end\n"
    "  if g.n == 3 then return index(ik, g[1], g[2], g[3]) end\n"
    "  local e0 = call('EXPIRETIME', ik) -- -2 no key, -1 no expiry\n"
    "  local e, known, add, na = e0, {}, {}, 0\n"
    "  for j = 1, g.n, 3 do\n"
    "    local name, at, fresh = g[j], g[j + 1], g[j + 2]\n"
    "    if not fresh and e >= 0 and e < at then e = at -- EXPIREAT GT done\n"
    "    else -- SADD; then the expiry moves if the name was added, or the counter is new\n"
    "      local added = false\n"
    "      if not known[name] then\n"
    "        known[name] = true\n"
    "        na = na + 1; add[na] = name\n"
    "        -- (added matters only where there is no expiry: else a new counter's end moves\n"
    "        -- it anyway, and another's is no later, as EXPIREAT GT failed)\n"
    "        added = e == -2 or e == -1 and call('SISMEMBER', ik, name) == 0\n"
    "      end\n"
    "      if e == -2 then e = -1 end\n"
    "      if (added or fresh) and e < at then e = at end\n"
    "    end\n"
    "  end\n"
    "  if na > 0 then call('SADD', ik, unpack(add, 1, na)) end\n"
    "  if e ~= e0 then call('EXPIREAT', ik, I(e)) end\n"
    "end\n"
    "-- bump - add d to the count of the older (not newest) slot at\n"
    "local function bump(e, ck, at, d)\n"
    "  if e.rewrite then e.rewrite.slots[at] = (e.rewrite.slots[at] or 0) + d\n"
    "  else call('HINCRBY', ck, fmt('s%d', at), I(d)) end\n"
    "end\n"
    "-- slot_in - count d in the current slot: the newest (q), a new newest (the old one gets\n"
    "-- its field), or one before the newest (a clock stepped back, a rebuilt coarser slot)\n"
    "local function slot_in(e, ck, d, set, ns)\n"
    "  if e.newest == e.cur then\n"
    "    e.q = e.q + d\n"
    "  elseif not e.newest or e.cur > e.newest then\n"
    "    if e.newest and e.q > 0 and e.newest >= e.since then\n"
    "      if e.rewrite then e.rewrite.slots[e.newest] = e.q\n"
    "      else set[ns + 1], set[ns + 2], ns = fmt('s%d', e.newest), I(e.q), ns + 2 end\n"
    "    end\n"
    "    e.newest, e.q = e.cur, d\n"
    "    return true, ns\n"
    "  else\n"
    "    bump(e, ck, e.cur, d)\n"
    "  end\n"
    "  return false, ns\n"
    "end\n"
    "-- store - commit one check: drop what fell out of the window, count unless the decision\n"
    "-- is refused, mark an excess, start a lock; then one HSET of what changed, and the expiry\n"
    "-- (EXPIREAT) only when it moves: the newest slot plus SLOTS + 1 slots, or the lock's end\n"
    "local function store(e, refuse)\n"
    "  local i = e.i\n"
    "  local a, ck = 3 + (i - 1) * 8, KEYS[3 * i - 2]\n"
    "  local kind = ARGV[a]\n"
    "  local set, ns = { nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil }, 0\n"
    "  local grow, changed, newslot = false, false, false\n"
    "  local first, started, count = 0, 0, e.total\n"
    "  local t0, q0, n0, x0, L0 = e.total, e.q, e.nm, e.marked, e.lu\n"
    "  if e.stale then\n"
    "    if e.nstale > 0 then call('HDEL', ck, unpack(e.stale, 1, e.nstale)) end\n"
    "    set[1], set[2], ns = 'o', I(e.since), 2\n"
    "  end\n"
    "  if e.legacy and e.legacy > 0 then\n"
    "    call('DEL', KEYS[3 * i - 1])\n"
    "    changed = e.legacy > now_s\n"
    "  end\n"
    "  if not refuse then\n"
    "    if kind == 's' then\n"
    "      e.total = e.total + e.add\n"
    "      newslot, ns = slot_in(e, ck, e.add, set, ns)\n"
    "    elseif not (e.seen and e.seen_at >= e.cur) then -- else: seen in this slot already\n"
    "      if e.seen then -- moves from its slot to this one: the total stays\n"
    "        if e.seen_at == e.newest then e.q = e.q - 1 else bump(e, ck, e.seen_at, -1) end\n"
    "      else\n"
    "        e.total = e.total + 1\n"
    "        if not e.seen_at then e.nm = e.nm + 1 end\n"
    "      end\n"
    "      if e.rewrite then e.rewrite.members[ARGV[a + 1]] = e.cur\n"
    "      else set[ns + 1], set[ns + 2], ns = 'm' .. ARGV[a + 1], I(e.cur), ns + 2 end\n"
    "      newslot, ns = slot_in(e, ck, 1, set, ns)\n"
    "    end\n"
    "    count, grow = e.after, newslot\n"
    "    if e.status == 0 then e.marked = false end\n"
    "  end\n"
    "  local xnew = false\n"
    "  if e.status == 1 then\n"
    "    if not e.marked then first, e.marked, grow, xnew = 1, true, true, true end\n"
    "    local lock = tonumber(ARGV[a + 5])\n"
    "    if lock > 0 and ARGV[a + 6] ~= '1' then\n"
    "      e.untl, started = now_s + lock, 1\n"
    "      e.lu, grow = e.untl, true\n"
    "    end\n"
    "  end\n"
    "  changed = changed or grow or e.total ~= t0 or e.q ~= q0 or e.marked ~= x0 or ns > 0\n"
    "  if e.fresh and not changed then return count, first, started end\n"
    "  local ends = 0\n"
    "  if e.newest and e.newest >= e.since then ends = e.newest + (SLOTS + 1) * e.slot end\n"
    "  if e.lu > now_s and e.lu > ends then ends = e.lu end\n"
    "  if xnew and e.cur + (SLOTS + 1) * e.slot > ends then ends = e.cur + (SLOTS + 1) * e.slot end\n"
    "  if e.rewrite then\n"
    "    if not e.fresh or e.held then call('DEL', ck) end\n"
    "    if ends <= now_s then return count, first, started end\n"
    "    -- the header first (a listpack keeps the order of insertion), then the slots and\n"
    "    -- members, in the same HSET while they are few\n"
    "    local args = { ck, 'v', '2', 'k', kind, 'w', ARGV[a + 4], 't', I(e.total), 'o', I(e.since),\n"
    "      'c', I(e.newest or e.since - e.slot), 'q', I(e.q), 'L', e.lu > now_s and I(e.lu) or '0',\n"
    "      'x', e.marked and '1' or '0', 'n', I(e.nm) }\n"
    "    local na = 21\n"
    "    for at, v in pairs(e.rewrite.slots) do\n"
    "      if v > 0 then args[na + 1], args[na + 2], na = fmt('s%d', at), I(v), na + 2 end\n"
    "    end\n"
    "    for m, at in pairs(e.rewrite.members) do\n"
    "      args[na + 1], args[na + 2], na = 'm' .. m, I(at), na + 2\n"
    "    end\n"
    "    if na <= 1001 then call('HSET', unpack(args, 1, na))\n"
    "    else\n"
    "      call('HSET', unpack(args, 1, 21))\n"
    "      for j = 22, na, 1000 do call('HSET', ck, unpack(args, j, math.min(j + 999, na))) end\n"
    "    end\n"
    "    grow = true\n"
    "  else\n"
    "    if e.total ~= t0 or e.stale then set[ns + 1], set[ns + 2], ns = 't', I(e.total), ns + 2 end\n"
    "    if e.q ~= q0 then set[ns + 1], set[ns + 2], ns = 'q', I(e.q), ns + 2 end\n"
    "    if newslot then set[ns + 1], set[ns + 2], ns = 'c', I(e.cur), ns + 2 end\n"
    "    if e.nm ~= n0 then set[ns + 1], set[ns + 2], ns = 'n', I(e.nm), ns + 2 end\n"
    "    if e.marked ~= x0 then set[ns + 1], set[ns + 2], ns = 'x', e.marked and '1' or '0', ns + 2 end\n"
    "    if e.lu ~= L0 then set[ns + 1], set[ns + 2], ns = 'L', I(e.lu), ns + 2 end\n"
    "    if ns > 0 then call('HSET', ck, unpack(set, 1, ns)) end\n"
    "  end\n"
    "  if grow and ends > now_s then\n"
    "    call('EXPIREAT', ck, I(ends))\n"
    "    index_later(KEYS[3 * i], ARGV[a + 7], ends, e.fresh)\n"
    "  end\n"
    "  return count, first, started\n"
    "end\n"
    "local commit = ARGV[1] == '1'\n"
    "local n = tonumber(ARGV[2])\n"
    "local c, refuse = {}, false\n"
    "local lks, nl = {}, 0\n"
    "for i = 1, n do\n"
    "  local e = read(i)\n"
    "  if e.legacy then nl = nl + 1; lks[nl] = KEYS[3 * i - 1] end\n"
    "  c[i] = e\n"
    "end\n"
    "if nl > 0 then -- the old layout's locks, of the checks that may have one, in one MGET\n"
    "  local got, j = call('MGET', unpack(lks, 1, nl)), 0\n"
    "  for i = 1, n do\n"
    "    local e = c[i]\n"
    "    if e.legacy then j = j + 1; e.legacy = tonumber(got[j] or '0') or 0 end\n"
    "  end\n"
    "end\n"
    "for i = 1, n do\n"
    "  local e = c[i]\n"
    "  judge(e)\n"
    "  if e.status ~= 0 and ARGV[3 + (i - 1) * 8 + 6] ~= '1' then refuse = true end\n"
    "end\n"
    "local out = {}\n"
    "for i = 1, n do\n"
    "  local e = c[i]\n"
    "  local count, first, started = e.total, 0, 0\n"
    "  if commit then count, first, started = store(e, refuse) end\n"
    "  local j = (i - 1) * 5\n"
    "  out[j + 1], out[j + 2], out[j + 3], out[j + 4], out[j + 5] =\n"
    "    e.status, count, e.untl, first, started\n"
    "end\n"
    "for k = 1, nq do index_flush(queued[k]) end\n"
    "return out\n";

/*
 * status: KEYS[1] index; ARGV[1] base. One entry per limit: escaped name,
 * kind, count, window, lock end (0), then its members (distinct). It reads
 * a counter whole (HGETALL through regrid, on its own grid): the same
 * count as decide's running total, and the members that count.
 */
static const char status[] =
    LUA_COMMON "local out = {}\n"
	       "for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
	       "  local ck, lk = ARGV[1] .. 'c:' .. name, ARGV[1] .. 'l:' .. name\n"
	       "  local h = redis.call('HGETALL', ck)\n"
	       "  local f = {}\n"
	       "  for j = 1, #h, 2 do f[h[j]] = h[j + 1] end\n"
	       "  local lu = math.max(tonumber(f.L) or 0, legacy_lock(lk))\n"
	       "  if lu <= now_s then lu = 0 end\n"
	       "  local w, kind = tonumber(f.w) or 0, f.k or 's'\n"
	       "  if w == 0 and lu == 0 then redis.call('SREM', KEYS[1], name)\n"
	       "  else\n"
	       "    local count, members = 0, {}\n"
	       "    if w > 0 then\n"
	       "      local r = regrid(h, kind, w)\n"
	       "      count = r.total\n"
	       "      for m in pairs(r.members) do members[#members + 1] = m end\n"
	       "      table.sort(members)\n"
	       "    end\n"
	       "    out[#out + 1] = { name, kind, count, w, lu, members }\n"
	       "  end\n"
	       "end\n"
	       "return out\n";

/* unlock: KEYS[1] index; ARGV[1] base. How many locks were lifted. */
static const char unlock[] =
    LUA_COMMON "local n = 0\n"
	       "for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
	       "  local ck = ARGV[1] .. 'c:' .. name\n"
	       "  local h = redis.call('HMGET', ck, 'v', 'w', 'c', 'L')\n"
	       "  local lu, w, c = tonumber(h[4]) or 0, tonumber(h[2]), tonumber(h[3])\n"
	       "  local lifted = lu > now_s\n"
	       "  if redis.call('DEL', ARGV[1] .. 'l:' .. name) > 0 then lifted = true end\n"
	       "  if lifted then n = n + 1 end\n"
	       "  if lu > 0 then -- the counter lives as long as its counts again\n"
	       "    local ends = w and c and c + (SLOTS + 1) * math.ceil(w / SLOTS) or 0\n"
	       "    if h[1] ~= '2' or ends <= now_s then redis.call('DEL', ck)\n"
	       "    else\n"
	       "      redis.call('HSET', ck, 'L', 0)\n"
	       "      redis.call('PEXPIREAT', ck, ends * 1000)\n"
	       "    end\n"
	       "  end\n"
	       "end\n"
	       "return n\n";

/* reset: KEYS[1] index; ARGV[1] base. How many counters were forgotten; locks stay. */
static const char reset[] =
    LUA_COMMON "local n = 0\n"
	       "for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
	       "  local ck = ARGV[1] .. 'c:' .. name\n"
	       "  local h = redis.call('HMGET', ck, 'k', 'L', 'w', 'c')\n"
	       "  local lu, w, c = tonumber(h[2]) or 0, tonumber(h[3]) or 1, tonumber(h[4])\n"
	       "  local live = h[1] and (not c or c + (SLOTS + 1) * math.ceil(w / SLOTS) > now_s)\n"
	       "  if redis.call('DEL', ck) == 1 and live then n = n + 1 end\n"
	       "  if lu > now_s then\n"
	       "    redis.call('HSET', ck, 'L', lu)\n"
	       "    redis.call('PEXPIREAT', ck, lu * 1000)\n"
	       "  elseif redis.call('EXISTS', ARGV[1] .. 'l:' .. name) == 0 then\n"
	       "    redis.call('SREM', KEYS[1], name)\n"
	       "  end\n"
	       "end\n"
	       "return n\n";

const char *const rscript_text[RSCRIPT_N] = {decide, status, unlock, reset};
