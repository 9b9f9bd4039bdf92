/* redis_script.c - the server-side Lua scripts of the Redis store, as C strings */
#include "redis_script.h"

/*
 * Key layout, under base = "<prefix>{<principal>}:" (redis_keys.c):
 *   base "c:" limit  hash, one per counter and its lock:
 *                    "v" layout (2), "k" kind, "w" window (s) of its grid,
 *                    "t" total of the slots from "o" on, "o" the oldest slot
 *                    start that may still have a field, "c" the newest slot
 *                    start, "s<start>" a slot's count (sums: admissions;
 *                    distinct: members last seen in it), "m<member>" the
 *                    slot start a member was last seen in, "n" how many
 *                    member fields (stale ones linger until compacted),
 *                    "x" exceeded mark, "L" the lock's end (Unix s);
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
 * of the fields it needs (the lock included: it lives in the same hash,
 * which then lives as long as the lock) and one HSET of what changed;
 * the running total is kept up to date as slots fall out of the window
 * (each deleted once, by walking the grid from "o"), and the expiry and
 * the index move only when a new slot starts or a lock does. A changed
 * window, kind or layout is rebuilt once from HGETALL.
 */

/*
 * Shared by the scripts: the server clock in seconds, a window's grid,
 * the rebuild of a counter on a grid, the old layout's lock.
 */
#define LUA_COMMON                                                                                    \
	"local t = redis.call('TIME')\n"                                                              \
	"local now_s = tonumber(t[1])\n"                                                              \
	"local SLOTS = 96\n"                                                                          \
	"-- grid - a window's slot width, the current slot's start, the oldest start that counts\n"   \
	"local function grid(window)\n"                                                               \
	"  local slot = math.ceil(window / SLOTS)\n"                                                  \
	"  local cur = now_s - now_s % slot\n"                                                        \
	"  return slot, cur, cur - SLOTS * slot\n"                                                    \
	"end\n"                                                                                       \
	"-- regrid - a counter's fields (HGETALL) on the grid of window: each slot, or member,\n"     \
	"-- moves to the slot of the new grid that ends no earlier than its own (a slot of the old\n" \
	"-- width w counts until its END falls out of the window: judging it by its start would\n"    \
	"-- let a shortened window over-admit), and what no longer counts is dropped. The same\n"     \
	"-- grid moves nothing. Returns the slots, the members, their total and the newest slot.\n"   \
	"local function regrid(h, kind, window)\n"                                                    \
	"  local slot, cur, since = grid(window)\n"                                                   \
	"  local f = {}\n"                                                                            \
	"  for j = 1, #h, 2 do f[h[j]] = h[j + 1] end\n"                                              \
	"  local r = { slots = {}, members = {}, total = 0, nm = 0,\n"                                \
	"    lu = tonumber(f.L) or 0, marked = f.x ~= nil and f.k == kind }\n"                        \
	"  if f.k ~= kind then return r end\n"                                                        \
	"  local ow = math.ceil((tonumber(f.w) or window) / SLOTS)\n"                                 \
	"  for j = 1, #h, 2 do\n"                                                                     \
	"    local name, at = h[j]\n"                                                                 \
	"    local tag = string.sub(name, 1, 1)\n"                                                    \
	"    if tag == 's' and kind == 's' then at = tonumber(string.sub(name, 2))\n"                 \
	"    elseif tag == 'm' and kind == 'd' then at = tonumber(h[j + 1]) end\n"                    \
	"    if at then\n"                                                                            \
	"      at = math.ceil((at + ow) / slot) * slot - slot\n"                                      \
	"      if at >= since then\n"                                                                 \
	"        local add = 1\n"                                                                     \
	"        if kind == 's' then add = tonumber(h[j + 1]) or 0\n"                                 \
	"        else r.members[string.sub(name, 2)], r.nm = at, r.nm + 1 end\n"                      \
	"        r.slots[at] = (r.slots[at] or 0) + add\n"                                            \
	"        r.total = r.total + add\n"                                                           \
	"        if r.newest == nil or at > r.newest then r.newest = at end\n"                        \
	"      end\n"                                                                                 \
	"    end\n"                                                                                   \
	"  end\n"                                                                                     \
	"  return r\n"                                                                                \
	"end\n"                                                                                       \
	"-- legacy_lock - the end of a lock kept by the old layout in its own key, or 0\n"            \
	"local function legacy_lock(lk)\n"                                                            \
	"  return tonumber(redis.call('GET', lk) or '0') or 0\n"                                      \
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
    "-- adopt - a rebuilt counter (regrid) becomes the check's state; store() rewrites the key\n"
    "local function adopt(e, r)\n"
    "  e.rewrite, e.total, e.newest, e.nm = r, r.total, r.newest, r.nm\n"
    "  e.curc, e.seen_at, e.marked = r.slots[e.cur] or 0, r.members[e.member], r.marked\n"
    "  if r.lu > e.lu then e.lu = r.lu end\n"
    "end\n"
    "-- read - the counter as this check finds it, in one HMGET of the header fields, the\n"
    "-- current slot and the member. The running total t covers the slots from o on; the\n"
    "-- slots that fell out of the window since are walked on the grid from o (at most\n"
    "-- 2 * SLOTS + 2 of them: a key lives no longer than its newest slot counts, or its lock)\n"
    "-- and subtracted, each once. Anything else (no t yet, another window or kind, too many\n"
    "-- lingering members) is rebuilt from HGETALL once, off the hot path.\n"
    "local function read(e)\n"
    "  local h = redis.call('HMGET', e.ck, 'v', 'k', 'w', 't', 'o', 'c', 'n', 'L', 'x',\n"
    "    's' .. e.cur, 'm' .. e.member)\n"
    "  e.lu, e.marked = tonumber(h[8]) or 0, h[9] ~= false\n"
    "  e.total, e.nm, e.curc, e.seen_at = 0, 0, 0, nil\n"
    "  if h[1] == '2' and h[2] == e.kind and tonumber(h[3]) == e.window then\n"
    "    e.total, e.oldest = tonumber(h[4]) or 0, tonumber(h[5]) or e.since\n"
    "    e.newest, e.nm = tonumber(h[6]) or e.since - e.slot, tonumber(h[7]) or 0\n"
    "    e.curc = tonumber(h[10]) or 0\n"
    "    if e.kind == 'd' then e.seen_at = tonumber(h[11]) end\n"
    "    if e.newest < e.since then -- nothing counts any more: start over, once per slot\n"
    "      e.total, e.curc, e.seen_at = 0, 0, nil\n"
    "      if e.oldest < e.since then\n"
    "        adopt(e, { slots = {}, members = {}, total = 0, nm = 0, lu = 0, marked = e.marked })\n"
    "      end\n"
    "    elseif e.oldest < e.since and e.since - e.oldest > (2 * SLOTS + 2) * e.slot\n"
    "      or e.nm > 2 * e.total + 64 then\n"
    "      adopt(e, regrid(redis.call('HGETALL', e.ck), e.kind, e.window))\n"
    "    elseif e.oldest < e.since then\n"
    "      local names = {}\n"
    "      for at = e.oldest, e.since - e.slot, e.slot do names[#names + 1] = 's' .. at end\n"
    "      local got = redis.call('HMGET', e.ck, unpack(names))\n"
    "      e.stale = {}\n"
    "      for j = 1, #names do\n"
    "        if got[j] then\n"
    "          e.total = e.total - tonumber(got[j])\n"
    "          e.stale[#e.stale + 1] = names[j]\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "  elseif h[1] == false and h[2] == false then -- no counter (maybe a lock kept by reset)\n"
    "    e.fresh = true\n"
    "    e.legacy = legacy_lock(e.lk)\n"
    "  else\n"
    "    if h[1] ~= '2' then e.legacy = legacy_lock(e.lk) end -- a counter of the old layout\n"
    "    adopt(e, regrid(redis.call('HGETALL', e.ck), e.kind, e.window))\n"
    "  end\n"
    "  if e.legacy and e.legacy > e.lu then e.lu = e.legacy end\n"
    "end\n"
    "-- index - the index names this limit and lives until at_ms at least (as long as the\n"
    "-- longest key it names); called only when a key's expiry moves (a new slot, a lock):\n"
    "-- one PEXPIREAT GT, and SADD only when the key is new or the index was lost\n"
    "local function index(ik, name, at_ms, fresh)\n"
    "  if not fresh and redis.call('PEXPIREAT', ik, at_ms, 'GT') == 1 then return end\n"
    "  if redis.call('SADD', ik, name) == 1 or fresh then\n"
    "    if redis.call('PEXPIRETIME', ik) < at_ms then redis.call('PEXPIREAT', ik, at_ms) end\n"
    "  end\n"
    "end\n"
    "-- hset - the fields of put in one HSET (in pieces for a large rebuild)\n"
    "local function hset(key, put)\n"
    "  local args = {}\n"
    "  for f, v in pairs(put) do\n"
    "    args[#args + 1], args[#args + 2] = f, v\n"
    "    if #args >= 1000 then redis.call('HSET', key, unpack(args)) args = {} end\n"
    "  end\n"
    "  if #args > 0 then redis.call('HSET', key, unpack(args)) end\n"
    "end\n"
    "-- store - commit one check: drop what fell out of the window, count unless the decision\n"
    "-- is refused, mark an excess, start a lock; then one HSET of what changed, and the expiry\n"
    "-- (PEXPIREAT) only when it moves: the newest slot plus SLOTS + 1 slots, or the lock's end\n"
    "local function store(e, refuse)\n"
    "  local put, grow = {}, e.rewrite ~= nil\n"
    "  local first, started, count = 0, 0, e.count\n"
    "  if e.rewrite then\n"
    "    redis.call('DEL', e.ck)\n"
    "    for at, v in pairs(e.rewrite.slots) do put['s' .. at] = v end\n"
    "    for m, at in pairs(e.rewrite.members) do put['m' .. m] = at end\n"
    "  elseif e.stale then\n"
    "    if #e.stale > 0 then redis.call('HDEL', e.ck, unpack(e.stale)) end\n"
    "    put.o, put.t = e.since, e.total\n"
    "  end\n"
    "  if e.legacy and e.legacy > 0 then\n"
    "    redis.call('DEL', e.lk)\n"
    "    if e.legacy > now_s then grow = true end\n"
    "  end\n"
    "  if not refuse then\n"
    "    local moved = true\n"
    "    if e.kind == 's' then\n"
    "      put['s' .. e.cur], put.t = e.curc + e.add, e.total + e.add\n"
    "    elseif e.seen and e.seen_at >= e.cur then -- already seen in this slot (or a later one)\n"
    "      moved = false\n"
    "    else\n"
    "      if e.seen then -- moves from its slot to this one: the total stays\n"
    "        if not e.rewrite then redis.call('HINCRBY', e.ck, 's' .. e.seen_at, -1)\n"
    "        else put['s' .. e.seen_at] = put['s' .. e.seen_at] - 1 end\n"
    "      else\n"
    "        put.t = e.total + 1\n"
    "        if e.seen_at == nil then e.nm = e.nm + 1 put.n = e.nm end\n"
    "      end\n"
    "      put['m' .. e.member], put['s' .. e.cur] = e.cur, e.curc + 1\n"
    "    end\n"
    "    if moved and (e.newest == nil or e.cur > e.newest) then\n"
    "      e.newest, put.c, grow = e.cur, e.cur, true\n"
    "    end\n"
    "    count = e.after\n"
    "    if e.status == 0 and e.marked then\n"
    "      e.marked = false\n"
    "      if not e.rewrite then redis.call('HDEL', e.ck, 'x') end\n"
    "    end\n"
    "  end\n"
    "  local xnew = false\n"
    "  if e.status == 1 then\n"
    "    if not e.marked then first, e.marked, put.x, grow, xnew = 1, true, 1, true, true end\n"
    "    if e.lock > 0 and not e.dry then\n"
    "      e.untl, started = now_s + e.lock, 1\n"
    "      e.lu, put.L, grow = e.untl, e.untl, true\n"
    "    end\n"
    "  end\n"
    "  if e.fresh and next(put) then grow = true end\n"
    "  if grow then\n"
    "    local ends = 0\n"
    "    if e.newest and e.newest >= e.since then ends = e.newest + (SLOTS + 1) * e.slot end\n"
    "    if e.lu > now_s and e.lu > ends then ends = e.lu end\n"
    "    if xnew and e.cur + (SLOTS + 1) * e.slot > ends then ends = e.cur + (SLOTS + 1) * e.slot end\n"
    "    if ends > now_s then\n"
    "      if e.fresh or e.rewrite then\n"
    "        put.v, put.k, put.w, put.t = '2', e.kind, e.window, put.t or e.total\n"
    "        put.o, put.c, put.n = e.since, e.newest or e.since - e.slot, e.nm\n"
    "        if e.marked then put.x = 1 end\n"
    "        if e.lu > now_s then put.L = e.lu end\n"
    "      end\n"
    "      hset(e.ck, put)\n"
    "      redis.call('PEXPIREAT', e.ck, ends * 1000)\n"
    "      index(e.ik, e.name, ends * 1000, e.fresh)\n"
    "    end\n"
    "  elseif next(put) then\n"
    "    hset(e.ck, put)\n"
    "  end\n"
    "  return count, first, started\n"
    "end\n"
    "local commit = ARGV[1] == '1'\n"
    "local n = tonumber(ARGV[2])\n"
    "local c, refuse = {}, false\n"
    "for i = 1, n do\n"
    "  local a = 3 + (i - 1) * 8\n"
    "  local e = { kind = ARGV[a], member = ARGV[a + 1], add = tonumber(ARGV[a + 2]),\n"
    "    max = tonumber(ARGV[a + 3]), window = tonumber(ARGV[a + 4]),\n"
    "    lock = tonumber(ARGV[a + 5]), dry = ARGV[a + 6] == '1', name = ARGV[a + 7],\n"
    "    ck = KEYS[3 * i - 2], lk = KEYS[3 * i - 1], ik = KEYS[3 * i], status = 0, untl = 0 }\n"
    "  e.slot, e.cur, e.since = grid(e.window)\n"
    "  read(e)\n"
    "  e.count = e.total\n"
    "  e.seen = e.kind == 'd' and e.seen_at ~= nil and e.seen_at >= e.since\n"
    "  if e.kind == 's' then e.after = e.total + e.add\n"
    "  elseif e.seen then e.after = e.total\n"
    "  else e.after = e.total + 1 end\n"
    "  if e.lu > now_s then e.status, e.untl = 2, e.lu\n"
    "  elseif e.after > e.max then e.status = 1 end\n"
    "  if e.status ~= 0 and not e.dry then refuse = true end\n"
    "  c[i] = e\n"
    "end\n"
    "local out = {}\n"
    "for i = 1, n do\n"
    "  local e = c[i]\n"
    "  local count, first, started = e.count, 0, 0\n"
    "  if commit then count, first, started = store(e, refuse) end\n"
    "  local j = (i - 1) * 5\n"
    "  out[j + 1], out[j + 2], out[j + 3], out[j + 4], out[j + 5] =\n"
    "    e.status, count, e.untl, first, started\n"
    "end\n"
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
static const char unlock[] = LUA_COMMON
    "local n = 0\n"
    "for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  local ck = ARGV[1] .. 'c:' .. name\n"
    "  local lu = tonumber(redis.call('HGET', ck, 'L') or '0') or 0\n"
    "  local held = redis.call('HDEL', ck, 'L')\n"
    "  if lu > now_s or redis.call('DEL', ARGV[1] .. 'l:' .. name) > 0 then n = n + 1 end\n"
    "  if held > 0 then\n"
    "    local h = redis.call('HMGET', ck, 'v', 'w', 'c')\n"
    "    local w, c = tonumber(h[2]), tonumber(h[3])\n"
    "    local ends = w and c and c + (SLOTS + 1) * math.ceil(w / SLOTS) or 0\n"
    "    if h[1] ~= '2' or ends <= now_s then redis.call('DEL', ck)\n"
    "    else redis.call('PEXPIREAT', ck, ends * 1000) end\n"
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
