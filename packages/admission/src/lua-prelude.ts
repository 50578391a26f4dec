/**
 * The admission state in Redis and the Lua prelude of its scripts (scripts.ts). Each script runs atomically
 * in Redis, so a check and the hold it grants are one step for every API replica. All keys one script call touches for one API key share a hash tag
 * (`{<prefix>/<key id>}`), so the scripts work on Redis Cluster; a call covering many API keys is split by
 * hash slot before it is sent (see AdmissionStore).
 *
 * Per API key (tag T):
 * - `T:c`  hash, the mirror of written spend: `d:<day start ms>` and `m:<month start ms>` → units, as the
 *          PostgreSQL aggregate rows hold them; `L` = 1 once every month row is present (lifetime limits).
 *          Only ever raised to a larger absolute value (max-merge), so late or repeated writes are harmless.
 * - `T:ps` hash, pending sums per row field; `T:p` hash job id → its rows (`field=units;…`); `T:px` zset
 *          job id → expiry. Written by ingest before the job is queued, removed by the worker in the same
 *          step that raises the mirror, so a job's spend is never in both or in neither.
 * - `T:h`  hash hold id → `state|units|expires ms|window` (state h = held, p = posted, r = released,
 *          x = expired); `T:hx` zset hold id → when to act (expiry of a live hold, forgetting of a
 *          tombstone); `T:hs` hash window → units held.
 * - `T:r`  hash, the rate-limit state (GCRA, see domain/rate-limit.ts): `q` = theoretical arrival time of
 *          the request counter, `t` = of the token counter, both in epoch microseconds (whole numbers, exact
 *          in Lua's doubles up to 2^53, about year 2255). Expires once both counters are idle.
 *
 * Money: Lua numbers are doubles, exact only to 2^53, while amounts reach 1e18 units. Amounts are therefore
 * added and compared as two limbs (whole dollars, nano-dollars), exact over the whole range; sums kept in
 * Redis use HINCRBY, which is exact 64-bit arithmetic.
 */

/** Helpers every script starts with: exact two-limb money arithmetic, the mirror and pending rows, holds, GCRA. */
export const PRELUDE = `
local B = 1000000000
local function norm(hi, lo)
  local carry = math.floor(lo / B)
  return {hi + carry, lo - carry * B}
end
local function big(s)
  if not s then return {0, 0} end
  s = tostring(s)
  local neg = false
  if string.sub(s, 1, 1) == '-' then neg = true; s = string.sub(s, 2) end
  local n = #s
  local hi, lo = 0, 0
  if n > 9 then hi = tonumber(string.sub(s, 1, n - 9)); lo = tonumber(string.sub(s, n - 8)) else lo = tonumber(s) end
  if neg then return norm(-hi, -lo) end
  return norm(hi, lo)
end
local function add(a, b) return norm(a[1] + b[1], a[2] + b[2]) end
local function sub(a, b) return norm(a[1] - b[1], a[2] - b[2]) end
local function cmp(a, b)
  if a[1] ~= b[1] then if a[1] < b[1] then return -1 end return 1 end
  if a[2] ~= b[2] then if a[2] < b[2] then return -1 end return 1 end
  return 0
end
local function str(a)
  if a[1] < 0 then
    local n = sub({0, 0}, a)
    return '-' .. str(n)
  end
  if a[1] == 0 then return string.format('%.0f', a[2]) end
  return string.format('%.0f', a[1]) .. string.format('%09.0f', a[2])
end
local function decr(hash, field, units)
  local left = redis.call('HINCRBY', hash, field, '-' .. units)
  if left == 0 then redis.call('HDEL', hash, field) end
end
local function drop_job(p, px, ps, job)
  local rows = redis.call('HGET', p, job)
  if rows then
    for field, units in string.gmatch(rows, '([^;=]+)=([^;]+)') do decr(ps, field, units) end
    redis.call('HDEL', p, job)
  end
  redis.call('ZREM', px, job)
end
-- A written job: its pending rows leave the sums, and a marker 'S' stays until \`until\`, so that an ingest
-- recording the job after the worker wrote it (the queue is written first) adds no pending.
local function settle_job(p, px, ps, job, until_ms)
  local rows = redis.call('HGET', p, job)
  if rows then
    for field, units in string.gmatch(rows, '([^;=]+)=([^;]+)') do decr(ps, field, units) end
  end
  redis.call('HSET', p, job, 'S')
  redis.call('ZADD', px, until_ms, job)
  redis.call('PEXPIREAT', p, until_ms); redis.call('PEXPIREAT', px, until_ms); redis.call('PEXPIREAT', ps, until_ms)
end
local function split_hold(v)
  local state, units, exp, win = string.match(v, '^(%a)|([^|]*)|([^|]*)|(.*)$')
  return state, units, exp, win
end
-- Drops pending jobs past their expiry and turns holds past theirs into tombstones (forgotten later).
local function prune(p, px, ps, h, hx, hs, now, forget_at)
  for _, job in ipairs(redis.call('ZRANGEBYSCORE', px, '-inf', now, 'LIMIT', 0, 100)) do
    drop_job(p, px, ps, job)
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', hx, '-inf', now, 'LIMIT', 0, 100)) do
    local v = redis.call('HGET', h, id)
    local state, units, exp, win = nil, nil, nil, nil
    if v then state, units, exp, win = split_hold(v) end
    if state == 'h' then
      decr(hs, win, units)
      redis.call('HSET', h, id, 'x|' .. units .. '|' .. exp .. '|' .. win)
      redis.call('ZADD', hx, forget_at, id)
    else
      redis.call('HDEL', h, id)
      redis.call('ZREM', hx, id)
    end
  end
end
-- Sums the given fields of a hash; missing is true when one of them is absent.
local function sum_fields(hash, fields)
  local total, missing = {0, 0}, false
  if #fields == 0 then return total, false end
  local values = redis.call('HMGET', hash, unpack(fields))
  for i = 1, #fields do
    if values[i] then total = add(total, big(values[i])) else missing = true end
  end
  return total, missing
end
-- Sums every month field (m:<start>) of a hash.
local function sum_months(hash)
  local total = {0, 0}
  local all = redis.call('HGETALL', hash)
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'm:' then total = add(total, big(all[i + 1])) end
  end
  return total
end
-- GCRA, the same decision as decideRate in domain/rate-limit.ts. interval: microseconds per request (0: no
-- request limit), burst: requests that pass at once, tpm: the key's tokens per minute (0: no token limit).
-- Returns allowed, retry after (ms), and the request counter's new value when allowed (nil: unchanged).
local TOKEN_TOLERANCE_US = 60000000
local function rate_check(r, now_ms, interval, burst, tpm)
  if interval == 0 and tpm == 0 then return true, 0, nil end
  local now_us = now_ms * 1000
  local vals = redis.call('HMGET', r, 'q', 't')
  local tq, tt = tonumber(vals[1]) or 0, tonumber(vals[2]) or 0
  local retry, new_q = 0, nil
  if interval > 0 then
    local base = math.max(tq, now_us)
    local ahead = base - now_us - (burst - 1) * interval
    if ahead > 0 then retry = ahead else new_q = base + interval end
  end
  if tpm > 0 then
    local ahead = tt - now_us - TOKEN_TOLERANCE_US
    if ahead >= 0 then retry = math.max(retry, ahead + 1) end
  end
  if retry > 0 then return false, math.ceil(retry / 1000), nil end
  return true, 0, new_q
end
-- Keeps the state until both counters are idle again (plus a minute).
local function rate_expire(r, now_ms)
  local vals = redis.call('HMGET', r, 'q', 't')
  local last = math.max(tonumber(vals[1]) or 0, tonumber(vals[2]) or 0)
  local ttl = math.ceil((last - now_ms * 1000) / 1000) + 60000
  if ttl > 0 then redis.call('PEXPIRE', r, ttl) end
end
local function rate_commit(r, now_ms, new_q)
  if new_q == nil then return end
  redis.call('HSET', r, 'q', string.format('%.0f', new_q))
  rate_expire(r, now_ms)
end
-- Moves the token counter on by \`tokens\` at \`tpm\` (chargeTokens in domain/rate-limit.ts; tokenCostUs's
-- rounding: whole microseconds).
local function charge_tokens(r, now_ms, tpm, tokens)
  if tpm <= 0 or tokens <= 0 then return end
  local tt = tonumber(redis.call('HGET', r, 't')) or 0
  local base = math.max(tt, now_ms * 1000)
  redis.call('HSET', r, 't', string.format('%.0f', base + math.floor(tokens * 60000000 / tpm + 0.5)))
  rate_expire(r, now_ms)
end
local function raise(hash, field, units)
  local current = redis.call('HGET', hash, field)
  if (not current) or cmp(big(units), big(current)) > 0 then redis.call('HSET', hash, field, units) end
end
`;
