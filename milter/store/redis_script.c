/* redis_script.c - the server-side Lua scripts of the Redis store, as C strings */
#include "redis_script.h"

/*
 * Key layout, under base = "<prefix>{<principal>}:" (redis_keys.c):
 *   base "c:" limit  hash: "s<slot start>" -> count (sums), "m<member>" ->
 *                    slot start last seen (distinct), "x" exceeded mark,
 *                    "w" window, "k" kind; expires when its newest slot
 *                    stops counting (STORE_SLOTS + 1 slots at most)
 *   base "l:" limit  string: the lock's end (Unix s); expires then
 *   base "i"         set of the limit names above (status, unlock, reset)
 * Limit names are escaped; no key carries max, window or lock, so a
 * changed limit keeps its history. Time is the server's (TIME): every
 * host shares one clock.
 */

/* Shared by the scripts: the server clock in seconds and the live span of a counter. */
#define LUA_CLOCK                                                                         \
	"local t = redis.call('TIME')\n"                                                  \
	"local now_s = tonumber(t[1])\n"                                                  \
	"local SLOTS = 96\n"                                                              \
	"local function span(window)\n"                                                   \
	"  local slot = math.ceil(window / SLOTS)\n"                                      \
	"  local cur = now_s - now_s % slot\n"                                            \
	"  return slot, cur, cur - SLOTS * slot\n"                                        \
	"end\n" /* read - a counter as found: count, member seen, exceeded mark, stale \
	 fields, and whether this slot wrote it already (its expiry and index are set) */  \
	"local function read(key, kind, member, oldest, cur, window)\n"                   \
	"  local count, seen, marked, stale, current = 0, false, false, {}, false\n"      \
	"  local h = redis.call('HGETALL', key)\n"                                        \
	"  local k, w\n"                                                                  \
	"  for j = 1, #h, 2 do\n"                                                         \
	"    if h[j] == 'k' then k = h[j + 1] elseif h[j] == 'w' then w = h[j + 1] end\n" \
	"  end\n"                                                                         \
	"  for j = 1, #h, 2 do\n"                                                         \
	"    local f, v = h[j], h[j + 1]\n"                                               \
	"    local tag = string.sub(f, 1, 1)\n"                                           \
	"    if tag == 's' or tag == 'm' then\n"                                          \
	"      local at = tonumber(tag == 's' and string.sub(f, 2) or v) or 0\n"          \
	"      if at < oldest or k ~= kind or (tag == 's') ~= (kind == 's') then\n"       \
	"        stale[#stale + 1] = f\n"                                                 \
	"      elseif tag == 's' then\n"                                                  \
	"        count = count + tonumber(v)\n"                                           \
	"        if f == 's' .. cur then current = true end\n"                            \
	"      else\n"                                                                    \
	"        count = count + 1\n"                                                     \
	"        if string.sub(f, 2) == member then\n"                                    \
	"          seen, current = true, tonumber(v) == cur\n"                            \
	"        end\n"                                                                   \
	"      end\n"                                                                     \
	"    elseif f == 'x' then marked = true end\n"                                    \
	"  end\n"                                                                         \
	"  return count, seen, marked, stale, current and tonumber(w) == window\n"        \
	"end\n" /* keep_index - the index lives as long as the longest key it names */    \
	"local function keep_index(key, name, until_ms)\n"                                \
	"  redis.call('SADD', key, name)\n"                                               \
	"  local ttl = redis.call('PTTL', key)\n"                                         \
	"  local want = until_ms - now_s * 1000\n"                                        \
	"  if ttl < want then redis.call('PEXPIRE', key, want) end\n"                     \
	"end\n"

/*
 * decide: KEYS[3i-2] counter, KEYS[3i-1] lock, KEYS[3i] index of check i;
 * ARGV commit, n, then per check: kind ("s"/"d"), member, add, max,
 * window, lock, dry_run ("1"), escaped name. Answers five integers per
 * check: status (0 ok, 1 exceeded, 2 locked), count, until,
 * first_exceeded, lock_started. store.h has the rules.
 */
static const char decide[] = LUA_CLOCK
    "local commit = ARGV[1] == '1'\n"
    "local n = tonumber(ARGV[2])\n"
    "local c, refuse = {}, false\n"
    "for i = 1, n do\n"
    "  local a = 3 + (i - 1) * 8\n"
    "  local e = { kind = ARGV[a], member = ARGV[a + 1], add = tonumber(ARGV[a + 2]),\n"
    "    max = tonumber(ARGV[a + 3]), window = tonumber(ARGV[a + 4]),\n"
    "    lock = tonumber(ARGV[a + 5]), dry = ARGV[a + 6] == '1', name = ARGV[a + 7],\n"
    "    ck = KEYS[3 * i - 2], lk = KEYS[3 * i - 1], ik = KEYS[3 * i], status = 0, untl = 0 }\n"
    "  local oldest\n"
    "  e.slot, e.cur, oldest = span(e.window)\n"
    "  e.count, e.seen, e.marked, e.stale, e.current =\n"
    "    read(e.ck, e.kind, e.member, oldest, e.cur, e.window)\n"
    "  e.after = e.count\n"
    "  if e.kind == 's' then e.after = e.count + e.add\n"
    "  elseif not e.seen then e.after = e.count + 1 end\n"
    "  local lu = tonumber(redis.call('GET', e.lk) or '0') or 0\n"
    "  if lu > now_s then e.status, e.untl = 2, lu\n"
    "  elseif e.after > e.max then e.status = 1 end\n"
    "  if e.status ~= 0 and not e.dry then refuse = true end\n"
    "  c[i] = e\n"
    "end\n"
    "local out = {}\n"
    "for i = 1, n do\n"
    "  local e = c[i]\n"
    "  local count, first, started, wrote = e.count, 0, 0, false\n"
    "  if commit then\n"
    "    for _, f in ipairs(e.stale) do redis.call('HDEL', e.ck, f) end\n"
    "    if not refuse then\n"
    "      if e.kind == 's' then redis.call('HINCRBY', e.ck, 's' .. e.cur, e.add)\n"
    "      else redis.call('HSET', e.ck, 'm' .. e.member, e.cur) end\n"
    "      count, wrote = e.after, true\n"
    "      if e.status == 0 and e.marked then redis.call('HDEL', e.ck, 'x') end\n"
    "    end\n"
    "    if e.status == 1 then\n"
    "      if not e.marked then\n"
    "        first, wrote = 1, true\n"
    "        redis.call('HSET', e.ck, 'x', '1')\n"
    "      end\n"
    "      if e.lock > 0 and not e.dry then\n"
    "        e.untl, started = now_s + e.lock, 1\n"
    "        redis.call('SET', e.lk, e.untl, 'PX', e.lock * 1000)\n"
    "        keep_index(e.ik, e.name, e.untl * 1000)\n"
    "      end\n"
    "    end\n"
    "    if wrote and not e.current then\n"
    "      local ends = (e.cur + (SLOTS + 1) * e.slot) * 1000\n"
    "      redis.call('HSET', e.ck, 'w', e.window, 'k', e.kind)\n"
    "      redis.call('PEXPIRE', e.ck, ends - now_s * 1000)\n"
    "      keep_index(e.ik, e.name, ends)\n"
    "    end\n"
    "  end\n"
    "  local j = (i - 1) * 5\n"
    "  out[j + 1], out[j + 2], out[j + 3], out[j + 4], out[j + 5] =\n"
    "    e.status, count, e.untl, first, started\n"
    "end\n"
    "return out\n";

/*
 * status: KEYS[1] index; ARGV[1] base. One entry per limit: escaped name,
 * kind, count, window, lock end (0), then its members (distinct).
 */
static const char status[] =
    LUA_CLOCK "local out = {}\n"
	      "for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
	      "  local ck, lk = ARGV[1] .. 'c:' .. name, ARGV[1] .. 'l:' .. name\n"
	      "  local lu = tonumber(redis.call('GET', lk) or '0') or 0\n"
	      "  if lu <= now_s then lu = 0 end\n"
	      "  local w = tonumber(redis.call('HGET', ck, 'w') or '0') or 0\n"
	      "  local kind = redis.call('HGET', ck, 'k') or 's'\n"
	      "  if w == 0 and lu == 0 then redis.call('SREM', KEYS[1], name)\n"
	      "  else\n"
	      "    local count, members = 0, {}\n"
	      "    if w > 0 then\n"
	      "      local _, _, oldest = span(w)\n"
	      "      local h = redis.call('HGETALL', ck)\n"
	      "      for j = 1, #h, 2 do\n"
	      "        local f, v = h[j], h[j + 1]\n"
	      "        local tag = string.sub(f, 1, 1)\n"
	      "        if tag == 's' and (tonumber(string.sub(f, 2)) or 0) >= oldest then\n"
	      "          count = count + tonumber(v)\n"
	      "        elseif tag == 'm' and (tonumber(v) or 0) >= oldest then\n"
	      "          count = count + 1\n"
	      "          members[#members + 1] = string.sub(f, 2)\n"
	      "        end\n"
	      "      end\n"
	      "    end\n"
	      "    out[#out + 1] = { name, kind, count, w, lu, members }\n"
	      "  end\n"
	      "end\n"
	      "return out\n";

/* unlock: KEYS[1] index; ARGV[1] base. How many locks were lifted. */
static const char unlock[] = "local n = 0\n"
			     "for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
			     "  n = n + redis.call('DEL', ARGV[1] .. 'l:' .. name)\n"
			     "end\n"
			     "return n\n";

/* reset: KEYS[1] index; ARGV[1] base. How many counters were forgotten; locks stay. */
static const char reset[] = "local n = 0\n"
			    "for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
			    "  n = n + redis.call('DEL', ARGV[1] .. 'c:' .. name)\n"
			    "  if redis.call('EXISTS', ARGV[1] .. 'l:' .. name) == 0 then\n"
			    "    redis.call('SREM', KEYS[1], name)\n"
			    "  end\n"
			    "end\n"
			    "return n\n";

const char *const rscript_text[RSCRIPT_N] = {decide, status, unlock, reset};
