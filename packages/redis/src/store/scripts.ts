// The store's Lua, one library (docs/store-semantics.md is the specification): LIB, then each
// operation as a function OPS.<name>. On Redis 7 it is loaded once as Redis Functions and each
// operation is one FCALL; elsewhere each operation is one EVALSHA script (redis-client.ts, luaLibrary).
// Conventions:
// - every call starts with begin(): LIB's locals outlive a call, so a call sets what it uses afresh;
// - time comes from redis.call('TIME') only, read once per call (NOW);
// - numbers go to Redis through fmt() (string.format '%d'): Lua's own number-to-string conversion
//   switches to exponent notation past 1e14, which HINCRBY/HSET readers would misread;
// - money is integer nanos, written as integers (never INCRBYFLOAT); a token level is the one float;
// - nothing a script returns is nil inside a table (that would truncate it): a null is ''.
//
// A charge's state is up to four keys, all under the one `{prefix}` hash tag: `k` a hash of
// aggregates (held, spent, level, balance…), the rule (`r`, as JSON) and hold amounts (`h:<id>`),
// `h` a ZSET of live holds scored by lease end, `x` a ZSET log (requests: entries scored by time;
// credits: grants in insertion order) and, for credits, `y` the grants that expire, by expiry. The
// hash's `e` is the instant they all expire at. A reservation record (`r:<id>`) is one short string
// naming its states' keys. Every script costs O(log n) in the size of a limit, its holds and grants
// (amortized: an entry, hold or grant is removed once, by the call that finds it expired).
// A state is loaded into a Lua table; with S.write every change is also written through, without it
// (peek, replays) the same code computes what the state would be and writes nothing.

import { CREDITS_LUA } from './lua-credits'

// Set by begin() at the start of every call: the call's KEYS and ARGV, its TIME, and the head
// arguments (ARGV[1] key base, ARGV[2] remember ms, ARGV[3] credits ttl ms, ARGV[4] reclaim limit).
const LIB = /* lua */ `
local KEYS, ARGV, NOW, BASE, REMEMBER, CREDITS_TTL, RECLAIM
local function fmt(n) return string.format('%d', n) end
-- a level as Redis will read it back exactly: an integer as one, any other number with 17 digits
local function flt(n)
  if n == math.floor(n) and n > -1e15 and n < 1e15 then return string.format('%d', n) end
  return string.format('%.17g', n)
end
-- Rules by their JSON text, decoded once: Redis Functions keep a library's locals between calls, so
-- the same rule sent (or stored) again is not decoded again. A cache, never changed in place (a rule
-- table is only read), and emptied when it grows past RULES_MAX texts.
local RULES, RULE_COUNT, RULES_MAX = {}, 0, 512
local function rule_of(json)
  local r = RULES[json]
  if r == nil then
    if RULE_COUNT >= RULES_MAX then RULES, RULE_COUNT = {}, 0 end
    r = cjson.decode(json)
    RULES[json] = r
    RULE_COUNT = RULE_COUNT + 1
  end
  return r
end
-- append a field and its integer value to an HSET argument list
local function put(f, name, n)
  f[#f + 1] = name
  f[#f + 1] = fmt(n)
end
local function nz(v) if v == nil or v == cjson.null then return nil end return v end
-- a number field as read (absent: 0). Coerced by arithmetic, not tonumber(): tonumber parses a string
-- twice (lua_isnumber, then lua_tonumber, each a strtod), and every field keyguard writes is numeric
local function num(v) if v == false or v == nil then return 0 end return v + 0 end
local function orq(v) if v == nil then return '' end return v end
-- a state's 'lm' while it has no hold: later than any lease end
local NO_HOLD = 1e15

-- a write-through: only with S.write, and it marks the state for saving (a denial saves only those)
local function w(S, ...)
  if S.write then
    S.dirty = true
    return redis.call(...)
  end
end

local function effective_limit(S)
  local limit = nz(S.r.limitNanos)
  if limit == nil then return nil end
  return limit + S.bonus
end

local function balance(S)
  return S.bal
end

-- Credits events on the state after a change (spec 3.5), write mode only.
local function credit_events(S, events)
  if not S.write then return end
  local net = balance(S) - S.debt
  local low = nz(S.r.lowBalanceNanos)
  if low then
    if net < low and S.low == 0 then
      S.low = 1
      events[#events + 1] = { 'credits-low', S.c.s, S.c.p, net }
    elseif net >= low then
      S.low = 0
    end
  end
  local ar = nz(S.r.autoRecharge)
  if ar then
    if S.rp ~= ar.period.id then S.rp = ar.period.id; S.rc = 0 end
    if net < ar.thresholdNanos and S.pk == '' and S.rc < ar.maxPerPeriod then
      S.rc = S.rc + 1
      S.pk = 'recharge:' .. S.c.s .. ':' .. S.c.p .. ':' .. ar.period.id .. ':' .. fmt(S.rc)
      S.pa = ar.amountNanos
      events[#events + 1] = { 'recharge-due', S.c.s, S.c.p, ar.amountNanos, S.pk }
    end
  end
end

-- Spend soft thresholds on spent money (spec 3.3), write mode only.
local function soft_check(S, events)
  if not S.write then return end
  for _, t in ipairs(S.r.softNanos or {}) do
    if S.spent >= t and redis.call('HEXISTS', S.c.k, 'f:' .. fmt(t)) == 0 then
      redis.call('HSET', S.c.k, 'f:' .. fmt(t), '1')
      events[#events + 1] = { 'soft-limit', S.c.s, S.c.p, t, S.spent, orq(nz(S.r.limitNanos)), S.r.period.id }
    end
  end
end

${CREDITS_LUA}
-- Remove one log entry (requests); a = its amount, for the count of non-unit entries ('nu').
local function drop_entry(S, id, a)
  if a ~= 1 then S.nu = S.nu - 1 end
  S.gone[id] = true
  if S.new_fields then S.new_fields['a:' .. id], S.new_fields['s:' .. id] = nil, nil end
  w(S, 'ZREM', S.c.x, id)
  w(S, 'HDEL', S.c.k, 'a:' .. id, 's:' .. id)
end

-- Remove a live hold from the state's hold index (not its effect: the caller applies that).
local function drop_hold(S, id, amount)
  S.held = S.held - amount
  if S.kind == 'concurrency' and amount ~= 1 then S.nu = S.nu - 1 end
  S.holds_gone[id] = true
  w(S, 'ZREM', S.c.h, id)
  w(S, 'HDEL', S.c.k, 'h:' .. id)
end

-- End one hold of a reservation in this state. how: 'settle' | 'release' | 'reclaim'.
local function finish_hold(S, id, amount, how, actual, events)
  local kind = S.kind
  drop_hold(S, id, amount)
  if kind == 'requests' then
    -- a log entry whose hold is gone was settled: nothing marks it
    if how == 'settle' then
      S.used = S.used + amount
    else
      drop_entry(S, id, amount)
    end
  elseif kind == 'tokens' then
    if how == 'settle' then
      S.level = math.min(S.r.capacity, S.level + amount - actual.tokens)
    else
      S.level = math.min(S.r.capacity, S.level + amount)
    end
  elseif kind == 'spend' then
    if how == 'settle' then S.spent = S.spent + actual.cost elseif how == 'reclaim' then S.spent = S.spent + amount end
  elseif kind == 'credits' then
    if how == 'settle' then consume(S, actual.cost) elseif how == 'reclaim' then consume(S, amount) end
  end
  if how == 'reclaim' and S.write then
    local as = 'released'
    if kind == 'spend' or kind == 'credits' then as = 'spent' end
    events[#events + 1] = { 'lease-expired', S.c.s, S.c.p, id, as }
  end
  if how ~= 'release' then
    if kind == 'spend' then soft_check(S, events) end
    if kind == 'credits' then credit_events(S, events) end
  end
end

-- A settle or release (FINISH) reads its own hold's amount with each state's aggregates: one HMGET.
local FINISH

local function hold_amount(S, id)
  if S.holds_gone[id] then return nil end
  local a
  if S.pre_id == id then a = S.pre else a = redis.call('HGET', S.c.k, 'h:' .. id) end
  if not a then return nil end
  return a + 0
end

-- HMGET of a state's aggregate fields and its 'lm' (see get_state), plus the finishing
-- reservation's hold when there is one.
local function aggregates(S, ...)
  local names = { ... }
  local n = #names
  names[n + 1] = 'lm'
  if FINISH then names[n + 2] = 'h:' .. FINISH end
  local v = redis.call('HMGET', S.c.k, unpack(names))
  S.lm = num(v[n + 1])
  if FINISH then S.pre_id, S.pre = FINISH, v[n + 2] end
  return v
end

-- The rule a state was last reserved with (its hash's 'r'), for a call that names the state but not
-- the rule (settle, release, a reclaim, a renew); a state that is gone gets a rule that holds nothing.
local function stored_rule(kind, r)
  if r then return rule_of(r) end
  if kind == 'spend' then return { kind = kind, limitNanos = 0, period = { id = '', endsAt = NOW }, softNanos = {} } end
  if kind == 'tokens' then return { kind = kind, capacity = 0, refillPerSecond = 0 } end
  if kind == 'requests' then return { kind = kind, limit = 0, windowMs = 1 } end
  return { kind = kind, limit = 0 }
end

-- Load a state, apply time and reclaim expired holds (spec 2.3, 4). c: { s, p, k, kind, r?, rj? }
-- (a reserve, peek or adjust sends the rule; a record names only the key).
local function load(c, write, events)
  local kind = c.kind
  -- every field a state gets, set here: a table filled one field at a time is rehashed as it grows
  local S = {
    c = c, kind = kind, write = write, gone = {}, holds_gone = {}, nu = 0, held = 0, lease_max = 0, e = 0,
    lm = 0, loaded = false, r = false, rule_stored = false, pre_id = false, pre = false, h_new = false,
    grew_h = false, grew_x = false, x_new = false, dirty = false, new_fields = false, spent = 0, bonus = 0,
    used = 0, level = 0, at = 0,
  }
  local v
  if kind == 'spend' then
    v = aggregates(S, 'r', 'held', 'u', 'e', 'spent', 'bonus')
    S.spent, S.bonus = num(v[5]), num(v[6])
  elseif kind == 'tokens' then
    v = aggregates(S, 'r', 'held', 'u', 'e', 'level', 'at')
  elseif kind == 'requests' or kind == 'concurrency' then
    v = aggregates(S, 'r', 'held', 'u', 'e', 'used', 'nu', 'lvt')
    S.used, S.nu = num(v[5]), num(v[6])
  else
    v = aggregates(S, 'r', 'held', 'u', 'e', 'debt', 'consumed', 'low', 'pk', 'pa', 'rp', 'rc', 'bal')
    S.debt, S.consumed, S.low, S.pk, S.pa = num(v[5]), num(v[6]), num(v[7]), v[8] or '', num(v[9])
    S.rp, S.rc = v[10] or '', num(v[11])
  end
  S.held, S.lease_max, S.e = num(v[2]), num(v[3]), num(v[4])
  -- as loaded, so that save() writes only what changed; a, b: the kind's first two counters
  local a, b = S.spent, S.bonus
  if kind == 'requests' or kind == 'concurrency' then a, b = S.used, S.nu
  elseif kind == 'credits' then a, b = S.debt, S.consumed
  elseif kind == 'tokens' then a, b = num(v[5]), num(v[6]) end
  local lvt = 0
  if kind == 'requests' then lvt = num(v[7]) end
  S.loaded = { held = S.held, u = S.lease_max, lm = S.lm, a = a, b = b, lvt = lvt }
  S.rule_stored = v[1]
  if c.r == nil then c.r = stored_rule(kind, v[1]) end
  local r = c.r
  S.r = r
  if kind == 'tokens' then
    if v[5] then
      -- a server clock that stepped back neither drains nor refills the bucket
      local at = v[6] + 0
      S.level = math.min(r.capacity, v[5] + math.max(0, NOW - at) * r.refillPerSecond / 1000)
      S.at = math.max(at, NOW)
    else
      S.level = r.capacity
      S.at = NOW
    end
  elseif kind == 'requests' then
    -- one ZRANGE of the oldest entry: while it is still in the window nothing ages out, and it is
    -- the log's resetAt until this call removes an entry (S.first, see oldest_entry)
    -- An entry's amount is its 'a:' field, 1 when it has none; it was settled when its hold is
    -- gone. 'lvt' is when this state's log began to be written so (entries before it may carry the
    -- older 'a:' and 's:' fields of every entry, which only the walk below deletes).
    S.lvt = lvt
    if S.lvt == 0 then S.lvt = NOW end
    local first = redis.call('ZRANGE', c.x, '0', '0', 'WITHSCORES')
    local old = {}
    local cut = NOW - r.windowMs
    local oldest = first[2] and first[2] + 0
    if first[1] == nil then
      S.first = false
      S.x_new = true
    elseif oldest > cut then
      S.first = oldest
    elseif S.nu == 0 and S.held == 0 and oldest >= S.lvt then
      -- no hold and every amount 1: each aged entry is a settled unit with no field, dropped by count
      local n
      if write then
        n = redis.call('ZREMRANGEBYSCORE', c.x, '-inf', fmt(cut))
        S.dirty = true
        -- the log may be gone now: a reserve then sets its TTL again
        S.x_new = n > 0
      else
        n = redis.call('ZCOUNT', c.x, '-inf', fmt(cut))
      end
      S.used = S.used - n
    else
      old = redis.call('ZRANGEBYSCORE', c.x, '-inf', fmt(cut))
    end
    for _, id in ipairs(old) do
      local e = redis.call('HMGET', c.k, 'a:' .. id, 's:' .. id)
      local amount = tonumber(e[1] or '1')
      local held = not e[2] and hold_amount(S, id)
      if held then drop_hold(S, id, held) else S.used = S.used - amount end
      drop_entry(S, id, amount)
    end
  elseif kind == 'credits' then
    S.gamt, S.ggone, S.gcur = {}, {}, 0
    S.bal = tonumber(v[12])
    if S.bal == nil then
      if redis.call('EXISTS', c.x) == 1 then S.bal = migrate_grants(S) else S.bal = 0 end
    end
    -- grants whose expiry has come: each found (and dropped) once
    for _, gid in ipairs(redis.call('ZRANGEBYSCORE', c.y, '-inf', fmt(NOW))) do
      if not S.ggone[gid] then
        S.bal = S.bal - grant_amount(S, gid)
        drop_grant(S, gid)
      end
    end
  end
  return S
end

-- Every state one call loads, by key, so a state named twice (or by a reclaimed reservation) is
-- one table; a write call saves them all at the end.
local STATES, RECLAIMED
-- the reservation a cancel releases. A cancel reclaims no expired hold, its own nor another's: after
-- an outage the cancels of reserves that ran (their replies lost) arrive one behind the other, past
-- their leases, and each must find its own hold still there to release, not charged by the one before
local CANCELLING
local LEASE
local get_state

-- A state key is BASE .. kind letter .. ':' .. len '.' scope .. ':' .. len '.' policy, and for spend
-- .. ':' .. len '.' period id: self-delimiting, so a record lists its states' keys back to back.
local KINDS = { q = 'requests', t = 'tokens', s = 'spend', c = 'concurrency', m = 'credits' }
local function part_at(str, i)
  local dot = string.find(str, '.', i, true)
  local n = tonumber(string.sub(str, i, dot - 1))
  return string.sub(str, dot + 1, dot + n), dot + n + 1
end
-- Parsed key lists by their text, as rule_of caches rules (a record's keys repeat: the same user's
-- states). An entry is never handed out: each call gets fresh charge tables (get_state adds to them).
local PARSED, PARSED_COUNT, PARSED_MAX = {}, 0, 1024
local function parse_keys(str)
  local parts = PARSED[str]
  if parts == nil then
    parts = {}
    local i = 1
    while i <= #str do
      local from = i
      local kind = KINDS[string.sub(str, i, i)]
      local s, p
      s, i = part_at(str, i + 2)
      p, i = part_at(str, i + 1)
      if kind == 'spend' then
        local _
        _, i = part_at(str, i + 1)
      end
      parts[#parts + 1] = { s, p, kind, string.sub(str, from, i - 1) }
    end
    if PARSED_COUNT >= PARSED_MAX then PARSED, PARSED_COUNT = {}, 0 end
    PARSED[str] = parts
    PARSED_COUNT = PARSED_COUNT + 1
  end
  local list = {}
  for n, t in ipairs(parts) do list[n] = { s = t[1], p = t[2], kind = t[3], k = BASE .. t[4] } end
  return list
end

-- A reservation record is one string, 'status|leaseEnd|leaseMs|keys', the keys of its charges'
-- states in charge order (parse_keys), so that writing it with its TTL is one SET. An earlier
-- version wrote the charges as JSON ('[' …) or as a hash: both are still read.
local function record_get(rkey)
  local v = redis.pcall('GET', rkey)
  if type(v) == 'table' and v.err then
    local h = redis.call('HMGET', rkey, 'st', 'exp', 'lease', 'c')
    if not h[1] then return nil end
    return { st = h[1], exp = tonumber(h[2]), lease = tonumber(h[3]), c = h[4] }
  end
  if not v then return nil end
  local st, exp, lease, c = string.match(v, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
  return { st = st, exp = exp + 0, lease = lease + 0, c = c }
end

local function record_charges(rec)
  if string.sub(rec.c, 1, 1) ~= '[' then return parse_keys(rec.c) end
  local list = cjson.decode(rec.c)
  for _, c in ipairs(list) do c.kind = c.r.kind end
  return list
end

local function record_set(rkey, rec, st, ttl)
  rec.st = st
  redis.call('SET', rkey, st .. '|' .. fmt(rec.exp) .. '|' .. fmt(rec.lease) .. '|' .. rec.c, 'PX', fmt(math.max(1, ttl)))
end

-- Reclaim a whole reservation (spec 4): every hold it still has, in every state its record names.
local function reclaim_reservation(id, events)
  if RECLAIMED[id] then return end
  RECLAIMED[id] = true
  local rkey = BASE .. 'r:' .. id
  local rec = record_get(rkey)
  if not rec or rec.st ~= 'live' then return end
  for _, c in ipairs(record_charges(rec)) do
    local S = get_state(c, true, events)
    local amount = hold_amount(S, id)
    if amount then finish_hold(S, id, amount, 'reclaim', nil, events) end
  end
  -- its lease has ended: remembered for REMEMBER from now (spec 1)
  record_set(rkey, rec, 'expired', REMEMBER)
end

get_state = function(c, write, events)
  c.h, c.x, c.y = c.k .. ':holds', c.k .. ':log', c.k .. ':exp'
  local S = STATES[c.k]
  if S then return S end
  S = load(c, write, events)
  STATES[c.k] = S
  -- only when the earliest lease end has passed is there anything to reclaim. 'lm' in the hash is
  -- a lower bound of every hold's lease end (a reserve lowers it, the ZRANGE below resets it to the
  -- earliest): while it is ahead of NOW, the holds index is not read at all
  local expired = {}
  if S.lm > NOW then
    -- the index may be empty (so deleted): a reserve then sets its TTL again
    S.h_new = S.held == 0
  else
    local first = redis.call('ZRANGE', c.h, '0', '0', 'WITHSCORES')
    if first[1] == nil then
      S.h_new = true
      S.lm = NO_HOLD
    else
      S.lm = first[2] + 0
      if S.lm <= NOW and not CANCELLING then
        expired = redis.call('ZRANGEBYSCORE', c.h, '-inf', fmt(NOW), 'LIMIT', 0, RECLAIM)
      end
    end
  end
  for _, id in ipairs(expired) do
    if write then reclaim_reservation(id, events) end
    -- a hold whose record is gone (or, in a read, any expired hold) is reclaimed in this state only
    local amount = hold_amount(S, id)
    if amount then finish_hold(S, id, amount, 'reclaim', nil, events) end
  end
  return S
end

local function ttl_of(S, lease)
  local r, kind = S.r, S.kind
  if kind == 'spend' then return math.max(r.period.endsAt - NOW, 0) + lease + REMEMBER end
  if kind == 'requests' then return math.max(r.windowMs, lease) + REMEMBER end
  if kind == 'tokens' then
    if r.refillPerSecond <= 0 then return CREDITS_TTL end
    return math.ceil(r.capacity * 1000 / r.refillPerSecond) + lease + REMEMBER
  end
  if kind == 'concurrency' then return lease + REMEMBER end
  -- credits: kept past the latest expiry of a grant
  local latest = redis.call('ZRANGE', S.c.y, -1, -1, 'WITHSCORES')
  if latest[1] == nil then return CREDITS_TTL end
  return math.max(0, tonumber(latest[2]) - NOW) + CREDITS_TTL
end

-- Write a state's aggregates and keep its keys alive.
-- TTLs: 'u' in the hash is the latest lease end any hold of this state ever had, so the TTL
-- computed here can never cut a longer-leased hold short. 'e' is the instant the keys expire
-- at (one PEXPIREAT each, with some slack: min(ttl / 8, 60 s) past what is needed); while it is
-- far enough ahead no PEXPIRE runs at all, except on a holds or log key this call (re)created.
local function save(S, lease)
  local c, kind = S.c, S.kind
  if S.held < 0 then S.held = 0 end
  if S.nu < 0 then S.nu = 0 end
  if S.grew_h then S.lease_max = math.max(S.lease_max, NOW + lease) end
  -- only the fields this call changed (an absent one reads as 0, as the loaded value did)
  local f = {}
  local o = S.loaded
  if S.held ~= o.held then put(f, 'held', S.held) end
  if S.lease_max ~= o.u then put(f, 'u', S.lease_max) end
  if S.lm ~= o.lm then put(f, 'lm', S.lm) end
  -- the rule, for the calls that name only the state (settle, release, reclaim)
  if c.rj and c.rj ~= S.rule_stored then
    f[#f + 1] = 'r'
    f[#f + 1] = c.rj
  end
  if kind == 'spend' then
    if S.spent ~= o.a then put(f, 'spent', S.spent) end
    if S.bonus ~= o.b then put(f, 'bonus', S.bonus) end
  elseif kind == 'tokens' then
    f[#f + 1] = 'level'
    f[#f + 1] = flt(S.level)
    if S.at ~= o.b then put(f, 'at', S.at) end
  elseif kind == 'requests' or kind == 'concurrency' then
    local used = math.max(0, S.used)
    if used ~= o.a then put(f, 'used', used) end
    if S.nu ~= o.b then put(f, 'nu', S.nu) end
    if kind == 'requests' and S.lvt ~= o.lvt then put(f, 'lvt', S.lvt) end
  elseif kind == 'credits' then
    for _, name in ipairs({ 'debt', 'consumed', 'low', 'pa', 'rc', 'bal' }) do put(f, name, S[name]) end
    for _, name in ipairs({ 'pk', 'rp' }) do
      f[#f + 1] = name
      f[#f + 1] = S[name]
    end
  end
  -- fields of holds taken (and log entries settled) by this call, written with the aggregates in one HSET
  if S.new_fields then
    for field, amount in pairs(S.new_fields) do put(f, field, amount) end
  end
  local ttl = math.max(1, math.ceil(math.max(ttl_of(S, lease), S.lease_max - NOW + REMEMBER)))
  local refresh = S.e < NOW + ttl
  if refresh then
    S.e = NOW + ttl + math.min(math.ceil(ttl / 8), 60000)
    put(f, 'e', S.e)
  end
  if #f > 0 then redis.call('HSET', c.k, unpack(f)) end
  local at = fmt(S.e)
  if refresh then
    redis.call('PEXPIREAT', c.k, at)
    redis.call('PEXPIREAT', c.h, at)
    -- only a request limit has a log, only credits a log and expiries
    if kind == 'requests' or kind == 'credits' then redis.call('PEXPIREAT', c.x, at) end
    if kind == 'credits' then redis.call('PEXPIREAT', c.y, at) end
    return
  end
  -- a holds or log key emptied (so deleted) and written again, or new, has no TTL yet; the two only
  -- grow in a reserve (or a grant). Grants are kept with the balance, always.
  if S.grew_h and (S.h_new or next(S.holds_gone) ~= nil) then redis.call('PEXPIREAT', c.h, at) end
  if (S.grew_x and (S.x_new or next(S.gone) ~= nil)) or kind == 'credits' then redis.call('PEXPIREAT', c.x, at) end
  if kind == 'credits' then redis.call('PEXPIREAT', c.y, at) end
end

-- First live log entry (requests), skipping entries this call removed.
local function oldest_entry(S)
  -- the oldest entry as loaded (or added to an empty log), while this call removed none
  if S.first ~= nil and next(S.gone) == nil then return S.first or nil end
  -- only entries this call removed can come before the oldest live one: read no more than that
  local skip = 1
  for _ in pairs(S.gone) do skip = skip + 1 end
  local rows = redis.call('ZRANGEBYSCORE', S.c.x, '(' .. fmt(NOW - S.r.windowMs), '+inf', 'WITHSCORES', 'LIMIT', 0, skip)
  for i = 1, #rows, 2 do
    if not S.gone[rows[i]] then return tonumber(rows[i + 1]) end
  end
  return nil
end

-- ChargeState (spec 3), pend = amount held on the working copy by this call, not yet written.
local function state_of(S, pend, no_reset)
  pend = pend or 0
  local c, r, kind = S.c, S.r, S.kind
  local held = math.max(0, S.held) + pend
  if kind == 'requests' then
    local reset = ''
    local oldest = nil
    if not no_reset then oldest = oldest_entry(S) end
    if oldest then reset = oldest + r.windowMs elseif pend > 0 then reset = NOW + r.windowMs end
    return { c.s, c.p, kind, r.limit, math.max(0, S.used), held, math.max(0, r.limit - S.used - held), reset }
  end
  if kind == 'tokens' then
    local level = S.level - pend
    local reset = ''
    if level < r.capacity and r.refillPerSecond > 0 then
      reset = NOW + math.ceil((r.capacity - level) * 1000 / r.refillPerSecond)
    end
    local lvl = math.floor(level)
    return { c.s, c.p, kind, r.capacity, math.max(0, r.capacity - lvl - held), held, math.max(0, lvl), reset }
  end
  if kind == 'spend' then
    local limit = effective_limit(S)
    local remaining = ''
    if limit then remaining = math.max(0, limit - S.spent - held) end
    return { c.s, c.p, kind, orq(limit), S.spent, held, remaining, r.period.endsAt }
  end
  if kind == 'concurrency' then
    return { c.s, c.p, kind, r.limit, 0, held, math.max(0, r.limit - held), '' }
  end
  local bal = balance(S)
  return { c.s, c.p, kind, bal, S.consumed, held, math.max(0, bal - S.debt - held), '' }
end

-- state_of(S, pend)[7] without building the state: what a reserve checks each charge against
local function remaining_of(S, pend)
  local r, kind = S.r, S.kind
  local held = math.max(0, S.held) + pend
  if kind == 'requests' then return math.max(0, r.limit - S.used - held) end
  if kind == 'tokens' then return math.max(0, math.floor(S.level - pend)) end
  if kind == 'spend' then
    local limit = effective_limit(S)
    if limit == nil then return '' end
    return math.max(0, limit - S.spent - held)
  end
  if kind == 'concurrency' then return math.max(0, r.limit - held) end
  return math.max(0, balance(S) - S.debt - held)
end

-- The walk of spec 6 over a ZSET of (id, score) whose amounts are hash fields prefix .. id (a log
-- entry without one counts 1): the score of the first member after whose removal
-- 'total + amount <= limit'. Linear: only used while the state has a member whose amount is not 1
-- ('nu' > 0); otherwise walk_units finds it by rank.
local function walk(S, zkey, from, prefix, gone, total, amount, limit)
  local rows = redis.call('ZRANGEBYSCORE', zkey, from, '+inf', 'WITHSCORES')
  local absent = 0
  if prefix == 'a:' then absent = 1 end
  for i = 1, #rows, 2 do
    local id = rows[i]
    if not gone[id] then
      total = total - (tonumber(redis.call('HGET', S.c.k, prefix .. id)) or absent)
      if total + amount <= limit then return tonumber(rows[i + 1]) end
    end
  end
  return nil
end

-- The same walk when every member counts 1: the (total + amount - limit)-th member from 'skip'.
local function walk_units(zkey, skip, total, amount, limit)
  local at = skip + total + amount - limit - 1
  local row = redis.call('ZRANGE', zkey, at, at, 'WITHSCORES')
  if row[1] == nil then return nil end
  return tonumber(row[2])
end

-- retryAfterMs for a denied charge (spec 6). Runs in a reserve, after load: the log holds no entry
-- older than the window and no hold this call dropped.
local function retry_after(S, amount, pend)
  local r, kind = S.r, S.kind
  if kind == 'requests' then
    if amount > r.limit then return '' end
    local total = math.max(0, S.used) + S.held + pend
    local at
    if S.nu > 0 then
      at = walk(S, S.c.x, '(' .. fmt(NOW - r.windowMs), 'a:', S.gone, total, amount, r.limit)
    else
      at = walk_units(S.c.x, 0, total, amount, r.limit)
    end
    if at == nil then return r.windowMs end
    return math.max(0, at + r.windowMs - NOW)
  end
  if kind == 'tokens' then
    if amount > r.capacity or r.refillPerSecond <= 0 then return '' end
    return math.max(0, math.ceil((amount - (S.level - pend)) * 1000 / r.refillPerSecond))
  end
  if kind == 'spend' then
    local limit = effective_limit(S)
    if limit == nil or amount > limit then return '' end
    return math.max(0, r.period.endsAt - NOW)
  end
  if kind == 'concurrency' then
    if amount > r.limit then return '' end
    local total = S.held + pend
    local at
    if S.nu > 0 then
      at = walk(S, S.c.h, '(' .. fmt(NOW), 'h:', S.holds_gone, total, amount, r.limit)
    else
      -- expired holds not reclaimed yet (past RECLAIM) still count in held, but free nothing later
      at = walk_units(S.c.h, redis.call('ZCOUNT', S.c.h, '-inf', fmt(NOW)), total, amount, r.limit)
    end
    if at == nil then return '' end
    return math.max(0, at - NOW)
  end
  return ''
end

-- Load each distinct state of a charge list once (a repeated scope+policy shares its state).
local function load_all(charges, write, events)
  local list = {}
  for i, c in ipairs(charges) do list[i] = get_state(c, write, events) end
  return list
end

-- only_dirty: a denial saves only the states its reclaims and expiries changed (a new one: nothing)
local function save_all(only_dirty)
  for _, S in pairs(STATES) do
    if not only_dirty or S.dirty then save(S, LEASE) end
  end
end

-- Finish every remaining hold of a reservation (settle, release or reclaim), then save.
local function finish_reservation(rec, id, how, actual, events)
  local charges = record_charges(rec)
  LEASE = rec.lease
  FINISH = id
  if how == 'reclaim' then reclaim_reservation(id, events) end
  local list = load_all(charges, true, events)
  for i = 1, #charges do
    local S = list[i]
    local amount = hold_amount(S, id)
    if amount then finish_hold(S, id, amount, how, actual, events) end
  end
  save_all()
  local out = {}
  for i = 1, #charges do out[i] = state_of(list[i]) end
  return out
end

local function peek_states(charges)
  local list = load_all(charges, false, {})
  local out = {}
  for i = 1, #charges do out[i] = state_of(list[i]) end
  return out
end

-- Charges as a reserve, peek or adjust sends them: count charges from ARGV[first], five arguments
-- each (scope, policy, amount, state key, rule as JSON), so only the rules are decoded (a rule is
-- stored as the state's 'r' when it changed). A period the sender computed from its estimate of
-- Redis's clock carries startsAt; false when NOW is outside it (the sender recomputes and resends).
local function decode_charges(first, count)
  local charges = {}
  for i = 1, count do
    local at = first + (i - 1) * 5
    local rj = ARGV[at + 4]
    local r = rule_of(rj)
    charges[i] = { s = ARGV[at], p = ARGV[at + 1], a = ARGV[at + 2] + 0, k = ARGV[at + 3], rj = rj, r = r, kind = r.kind }
  end
  return charges
end

local function periods_hold(charges)
  for _, c in ipairs(charges) do
    local period = c.r.period or (type(c.r.autoRecharge) == 'table' and c.r.autoRecharge.period)
    if type(period) == 'table' and nz(period.startsAt) and (NOW < period.startsAt or NOW >= period.endsAt) then
      return false
    end
  end
  return true
end

-- Every call starts here: a library's locals outlive a call (Redis Functions load it once), so
-- everything a call reads or builds is set afresh.
local function begin(keys, args)
  -- Redis 3.2 to 4 replicate a script that reads TIME only when told to; 7 (which has the version
  -- number) always does, and the pcall is a cost there
  if redis.replicate_commands and not redis.REDIS_VERSION_NUM then pcall(redis.replicate_commands) end
  KEYS, ARGV = keys, args
  local T = redis.call('TIME')
  NOW = T[1] * 1000 + math.floor(T[2] / 1000)
  BASE, REMEMBER, CREDITS_TTL, RECLAIM = args[1], args[2] + 0, args[3] + 0, args[4] + 0
  STATES, RECLAIMED, CANCELLING, LEASE, FINISH = {}, {}, nil, 0, nil
end
local OPS = {}
`

/**
 * KEYS: record, then k, h, x (credits: and y) per charge. ARGV[5..]: id, lease ms, deadline (Redis
 * ms, or '' when the sender does not know Redis's clock yet), then the charges (decode_charges).
 * Replies { ok, code, states, events, denial, NOW }: code 0 new, 1 replayed, 2 stale (wrote
 * nothing), 3 a period does not hold NOW (wrote nothing; resend with periods for NOW).
 */
const reserve = /* lua */ `
OPS.reserve = function()
  local rkey = KEYS[1]
  local id, lease = ARGV[5], ARGV[6] + 0
  local charges = decode_charges(8, (#ARGV - 7) / 5)
  local lease_end = NOW + lease
  -- a reserve that runs after its sender gave up on it (replayed by a client after an outage) writes
  -- nothing: the app has already answered that call as failed (docs/store-semantics.md, "Replays")
  if ARGV[7] ~= '' and NOW > ARGV[7] + 0 then return { 0, 2, {}, {}, {}, NOW } end
  if not periods_hold(charges) then return { 0, 3, {}, {}, {}, NOW } end
  local known = redis.call('GET', rkey)
  if known then
    -- a tombstone: the sender cancelled this id before the reserve arrived
    if string.sub(known, 1, 10) == 'cancelled|' then return { 0, 2, {}, {}, {}, NOW } end
    return { 1, 1, peek_states(charges), {}, {}, NOW }
  end
  -- a hold of a forgotten reservation with this same id is reclaimed in its state only, as before
  RECLAIMED[id] = true
  local events = {}
  LEASE = lease
  local list = load_all(charges, true, events)
  local pend = {}
  for i, c in ipairs(charges) do
    local S = list[i]
    local p = pend[c.k] or 0
    local remaining = remaining_of(S, p)
    if remaining ~= '' and c.a > remaining then
      local st = state_of(S, p, true)
      -- a denial writes nothing but what its reclaims and expiries changed
      save_all(true)
      return { 0, 0, {}, events, { c.s, c.p, S.kind, st[4], remaining, c.a, retry_after(S, c.a, p), st[5] }, NOW }
    end
    pend[c.k] = p + c.a
  end
  local keys = {}
  local lease_s = fmt(lease_end)
  for i, c in ipairs(charges) do
    local S = list[i]
    keys[i] = string.sub(c.k, #BASE + 1)
    S.held = S.held + c.a
    redis.call('ZADD', c.h, lease_s, id)
    S.lm = math.min(S.lm, lease_end)
    S.new_fields = S.new_fields or {}
    S.new_fields['h:' .. id] = (S.new_fields['h:' .. id] or 0) + c.a
    S.grew_h = true
    if S.kind == 'requests' then
      S.grew_x = true
      -- a re-added member (an id forgotten and reused) may have been the oldest: ask again then
      if redis.call('ZADD', c.x, fmt(NOW), id) == 0 then S.first = nil elseif S.first == false then S.first = NOW end
      S.new_fields['a:' .. id] = (S.new_fields['a:' .. id] or 0) + c.a
    elseif S.kind == 'tokens' then
      S.level = S.level - c.a
    end
  end
  local seen = {}
  for i, c in ipairs(charges) do
    local S = list[i]
    if not seen[c.k] then
      seen[c.k] = true
      -- the count of entries (requests) or holds (concurrency) whose amount is not 1 (retry_after)
      if (S.kind == 'requests' or S.kind == 'concurrency') and S.new_fields['h:' .. id] ~= 1 then S.nu = S.nu + 1 end
      -- a log entry of 1 needs no field
      if S.kind == 'requests' and S.new_fields['a:' .. id] == 1 then S.new_fields['a:' .. id] = nil end
      if S.kind == 'credits' then credit_events(S, events) end
    end
  end
  redis.call('SET', rkey, 'live|' .. lease_s .. '|' .. fmt(lease) .. '|' .. table.concat(keys), 'PX', fmt(lease + REMEMBER))
  save_all()
  local out = {}
  for i = 1, #charges do out[i] = state_of(list[i]) end
  return { 1, 0, out, events, {}, NOW }
end
`

/** KEYS: record. ARGV[5..]: id, cost nanos, tokens. */
const settle = /* lua */ `
OPS.settle = function()
  local rkey = KEYS[1]
  local id = ARGV[5]
  local actual = { cost = ARGV[6] + 0, tokens = ARGV[7] + 0 }
  local rec = record_get(rkey)
  if not rec then return { 'unknown', {}, {} } end
  local st = rec.st
  local events = {}
  if st == 'live' then
    local how, status = 'settle', 'settled'
    if rec.exp <= NOW then how, status = 'reclaim', 'expired' end
    local out = finish_reservation(rec, id, how, actual, events)
    -- remembered until max(leaseEnd, now) + REMEMBER (spec 1)
    record_set(rkey, rec, status, math.max(rec.exp - NOW, 0) + REMEMBER)
    return { status, out, events }
  end
  local status = st
  if st == 'settled' then status = 'already-settled' end
  if st == 'cancelled' then status = 'released' end
  return { status, peek_states(record_charges(rec)), {} }
end
`

/** KEYS: record. ARGV[5]: id. */
const release = /* lua */ `
OPS.release = function()
  local rkey = KEYS[1]
  local id = ARGV[5]
  local rec = record_get(rkey)
  if not rec then return 'unknown' end
  local st = rec.st
  if st == 'live' then
    local how, status = 'release', 'released'
    if rec.exp <= NOW then how, status = 'reclaim', 'expired' end
    finish_reservation(rec, id, how, nil, {})
    -- remembered until max(leaseEnd, now) + REMEMBER (spec 1)
    record_set(rkey, rec, status, math.max(rec.exp - NOW, 0) + REMEMBER)
    return status
  end
  if st == 'released' or st == 'cancelled' then return 'already-released' end
  return st
end
`

/**
 * KEYS: record. ARGV[5]: id. Cancels a reserve its sender answered as failed, whatever order the
 * two arrive in: a live hold is released (even past its lease: the call never ran, so nothing is
 * charged), and an id not seen yet gets a tombstone that turns a later reserve into a no-op.
 */
const cancel = /* lua */ `
OPS.cancel = function()
  local rkey = KEYS[1]
  local id = ARGV[5]
  local rec = record_get(rkey)
  if not rec then
    redis.call('SET', rkey, 'cancelled|' .. fmt(NOW) .. '|0|[]', 'PX', fmt(REMEMBER))
    return 'tombstone'
  end
  if rec.st ~= 'live' then return rec.st end
  CANCELLING = id
  finish_reservation(rec, id, 'release', nil, {})
  record_set(rkey, rec, 'cancelled', math.max(rec.exp - NOW, 0) + REMEMBER)
  return 'released'
end
`

/** KEYS: k, h, x (credits: and y) per policy. ARGV[5..]: the charges (decode_charges, amount 0). Replies { code, states, NOW }: code 3 as in reserve. */
const peek = /* lua */ `
OPS.peek = function()
  local charges = decode_charges(5, (#ARGV - 4) / 5)
  if not periods_hold(charges) then return { 3, {}, NOW } end
  return { 0, peek_states(charges), NOW }
end
`

/**
 * KEYS: k, h, x, y, idempotency key. ARGV[5..]: delta, expiresAt|'', idempotency key|'', idem
 * ttl, then the charge (decode_charges). Replies { code, state, NOW }: code 3 as in reserve.
 */
const adjust = /* lua */ `
OPS.adjust = function()
  local delta, expires, idem, idem_ttl = tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8]
  local c = decode_charges(9, 1)[1]
  if not periods_hold({ c }) then return { 3, {}, NOW } end
  local S = get_state(c, true, {})
  if idem ~= '' and redis.call('EXISTS', KEYS[5]) == 1 then
    save_all()
    return { 0, state_of(S), NOW }
  end
  local kind = S.kind
  if kind == 'spend' then
    if delta > 0 then S.bonus = S.bonus + delta else S.spent = math.max(0, S.spent + delta) end
  elseif kind == 'credits' then
    if delta > 0 then
      local paid = math.min(S.debt, delta)
      S.debt = S.debt - paid
      if delta - paid > 0 then
        local seq = redis.call('HINCRBY', c.k, 'seq', 1)
        local gid = string.format('%016d', seq)
        redis.call('ZADD', c.x, seq, gid)
        redis.call('HSET', c.k, 'ga:' .. gid, fmt(delta - paid), 'ge:' .. gid, expires)
        if expires ~= '' then redis.call('ZADD', c.y, expires, gid) end
        S.bal = S.bal + delta - paid
      end
    elseif delta < 0 then
      consume(S, -delta)
    end
    if idem ~= '' and S.pk == idem then S.pk = ''; S.pa = 0 end
    local low = nz(S.r.lowBalanceNanos)
    if low and balance(S) - S.debt >= low then S.low = 0 end
  elseif kind == 'tokens' then
    S.level = math.min(S.r.capacity, S.level + delta)
  end
  if idem ~= '' then redis.call('SET', KEYS[5], '1', 'PX', idem_ttl) end
  save_all()
  return { 0, state_of(S), NOW }
end
`

/**
 * KEYS: the records. ARGV[5..]: lease ms, then per record its id and the latest lease end it may
 * reach (Redis ms). Moves each live, unexpired reservation's lease end to min(NOW + lease, latest):
 * in its record, in each of its holds' scores, and in its states' TTLs. Replies the count renewed.
 */
const renew = /* lua */ `
OPS.renew = function()
  -- keep a state's hash and its lease-end marks alive to lease_end + REMEMBER, as save() would
  local function extend(k, lease_end)
    local v = redis.call('HMGET', k, 'u', 'e')
    if not v[2] then return end -- a state that is gone keeps nothing to renew
    local f = {}
    if num(v[1]) < lease_end then f = { 'u', fmt(lease_end) } end
    if num(v[2]) < lease_end + REMEMBER then
      local e = fmt(lease_end + REMEMBER + math.min(math.ceil(REMEMBER / 8), 60000))
      f[#f + 1] = 'e'
      f[#f + 1] = e
      for _, key in ipairs({ k, k .. ':holds', k .. ':log', k .. ':exp' }) do redis.call('PEXPIREAT', key, e) end
    end
    if #f > 0 then redis.call('HSET', k, unpack(f)) end
  end

  local lease = tonumber(ARGV[5])
  local renewed = 0
  for i, rkey in ipairs(KEYS) do
    local id, latest = ARGV[4 + 2 * i], tonumber(ARGV[5 + 2 * i])
    local rec = record_get(rkey)
    local lease_end = math.min(NOW + lease, latest)
    if rec and rec.st == 'live' and rec.exp > NOW and lease_end > rec.exp then
      for _, c in ipairs(record_charges(rec)) do
        redis.call('ZADD', c.k .. ':holds', 'XX', fmt(lease_end), id)
        extend(c.k, lease_end)
      end
      rec.exp = lease_end
      record_set(rkey, rec, 'live', lease_end - NOW + REMEMBER)
      renewed = renewed + 1
    end
  end
  return renewed
end
`

/**
 * The store's Lua as one library: LIB, then every operation as OPS.<name> (a function of the call's
 * KEYS and ARGV, set by begin). See redis-client.ts's luaLibrary for how it runs (Redis Functions, or
 * one EVALSHA script per operation).
 */
export const storeLua = {
  library: LIB + reserve + settle + release + cancel + peek + adjust + renew,
  operations: ['reserve', 'settle', 'release', 'cancel', 'peek', 'adjust', 'renew'],
} as const
