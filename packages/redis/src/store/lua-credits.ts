// The credits part of the store's Lua (scripts.ts's LIB, where it is spliced in): a balance kept as
// an aggregate, grants consumed oldest first through a cursor, expiries indexed by time. It uses
// LIB's helpers defined before it (w, num, fmt, NOW) and is used by finish_hold, load and adjust.
export const CREDITS_LUA = /* lua */ `
-- Credits. The balance is the aggregate 'bal'; a grant is 'ga:<gid>' (amount left) and 'ge:<gid>'
-- (expiry or ''), a member of x scored by its sequence number (insertion order), and of y scored by
-- its expiry when it has one. Amounts read this call are cached in S.gamt.
local function grant_amount(S, gid)
  local a = S.gamt[gid]
  if a == nil then
    a = num(redis.call('HGET', S.c.k, 'ga:' .. gid))
    S.gamt[gid] = a
  end
  return a
end

local function drop_grant(S, gid)
  S.ggone[gid] = true
  w(S, 'ZREM', S.c.x, gid)
  w(S, 'ZREM', S.c.y, gid)
  w(S, 'HDEL', S.c.k, 'ga:' .. gid, 'ge:' .. gid)
end

-- Take c from unexpired grants, oldest first (a cursor over x, so a read-only call skips what it
-- would have dropped); the rest becomes debt. Each grant emptied is dropped once: amortized O(log n).
local function consume(S, c)
  local left = c
  while left > 0 do
    local row = redis.call('ZRANGEBYSCORE', S.c.x, '(' .. fmt(S.gcur), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
    if row[1] == nil then break end
    local gid = row[1]
    if S.ggone[gid] then
      S.gcur = tonumber(row[2])
    else
      local amount = grant_amount(S, gid)
      local take = math.min(left, amount)
      amount = amount - take
      left = left - take
      S.bal = S.bal - take
      S.gamt[gid] = amount
      if amount == 0 then
        drop_grant(S, gid)
        S.gcur = tonumber(row[2])
      else
        w(S, 'HSET', S.c.k, 'ga:' .. gid, fmt(amount))
      end
    end
  end
  S.debt = S.debt + left
  S.consumed = S.consumed + c
end

-- A balance written before 'bal' existed: sum its grants once and index their expiries (O(n), once).
local function migrate_grants(S)
  local total = 0
  for _, gid in ipairs(redis.call('ZRANGE', S.c.x, 0, -1)) do
    local g = redis.call('HMGET', S.c.k, 'ga:' .. gid, 'ge:' .. gid)
    local expires = tonumber(g[2] or '')
    if expires and expires <= NOW then
      drop_grant(S, gid)
    else
      total = total + num(g[1])
      if expires then w(S, 'ZADD', S.c.y, fmt(expires), gid) end
    end
  end
  S.dirty = S.write
  return total
end
`
