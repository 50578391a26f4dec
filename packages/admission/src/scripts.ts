/**
 * The admission state's Lua scripts, one per step (the layout of the keys they share, and the money rules,
 * are described in lua-prelude.ts).
 */
import { PRELUDE } from './lua-prelude.ts';

/**
 * ADMIT: the limit check for one API key, and the hold it grants, in one step.
 *
 * KEYS: the API key's hash tag T alone; the script works on T:c, T:ps, T:p, T:px, T:h, T:hx, T:hs, T:r and
 * T:ht, which share its slot. (Verify runs this on every call of a limited key: nine key names and twenty
 * arguments made ioredis build ~30 strings per call and Redis parse them; see BENCHMARKS.md.)
 * ARGV[1]: the numbers, comma-separated: now, forget_at, threshold, hold window, mode (`f`: the fields
 * below; `m`: every month, lifetime), n, field × n, seed flag (`0`/`1`), [seeds: for `f` n values; for `m`
 * a count and field/value pairs], hold units, hold expiry, hold key ttl ms, then the rate limit: request
 * interval µs (0: none), burst, tokens per minute (0: none), and the tokens the hold expects to use.
 * ARGV[2]: the hold id (empty: no hold); it is the caller's printable ASCII, commas included, so it stands
 * apart.
 *
 * A hold granted with expected tokens charges them to the token counter at once and keeps them in `T:ht`
 * (hold id → tokens), so the usage event that posts the hold charges only what it used beyond them.
 *
 * The rate limit is checked only when the spend limit admits (a call the limit refuses takes no room in the
 * rate), and a verify repeating a hold already held or posted is the same call: it is not counted again.
 *
 * Returns `{status, committed, pending, held, code, hold status, hold expiry, retry after ms}`; status
 * `SEED` when the mirror of written spend lacks a row this window needs (read PostgreSQL, call again with
 * the seeds).
 */
export const ADMIT_SCRIPT = `${PRELUDE}
local T = KEYS[1]
local c, ps, p, px, h, hx, hs, r, ht = T .. ':c', T .. ':ps', T .. ':p', T .. ':px', T .. ':h', T .. ':hx', T .. ':hs', T .. ':r', T .. ':ht'
local A = {}
for value in string.gmatch(ARGV[1], '[^,]+') do A[#A + 1] = value end
local now, forget_at, threshold, window, mode = tonumber(A[1]), A[2], big(A[3]), A[4], A[5]
local n = tonumber(A[6])
local fields = {}
for i = 1, n do fields[i] = A[6 + i] end
local at = 7 + n
if A[at] == '1' then
  if mode == 'f' then
    for i = 1, n do raise(c, fields[i], A[at + i]) end
    at = at + n
  else
    local count = tonumber(A[at + 1])
    for i = 1, count do raise(c, A[at + 2 * i], A[at + 2 * i + 1]) end
    redis.call('HSET', c, 'L', '1')
    at = at + 1 + 2 * count
  end
end
local hold_id, hold_units, hold_exp, hold_ttl = ARGV[2], A[at + 1], A[at + 2], A[at + 3]
local rate_interval, rate_burst, rate_tpm = tonumber(A[at + 4]), tonumber(A[at + 5]), tonumber(A[at + 6])
local hold_tokens = tonumber(A[at + 7]) or 0

local committed, pending, missing
if mode == 'f' then
  committed, missing = sum_fields(c, fields)
else
  missing = not redis.call('HGET', c, 'L')
  committed = sum_months(c)
end
if missing then return {'SEED'} end
prune(p, px, ps, h, hx, hs, now, forget_at)
if mode == 'f' then pending = sum_fields(ps, fields) else pending = sum_months(ps) end
local held = big(redis.call('HGET', hs, window))

local spent = add(committed, pending)
local left = sub(threshold, add(spent, held))
local hold_status = ''
local need = nil
if hold_id ~= '' then
  local existing = redis.call('HGET', h, hold_id)
  local state = nil
  if existing then state = split_hold(existing) end
  if state == 'h' then hold_status = 'already_held'; need = {0, 0}
  elseif state == 'p' then hold_status = 'already_posted'; need = {0, 0}
  else need = big(hold_units) end
end
local code
if cmp(spent, threshold) >= 0 then code = 'LIMIT_REACHED'
elseif need == nil then
  if cmp(left, {0, 0}) > 0 then code = 'VALID' else code = 'INSUFFICIENT_REMAINING' end
elseif cmp(need, left) <= 0 then code = 'VALID'
else code = 'INSUFFICIENT_REMAINING' end

local retry_after = 0
if code == 'VALID' and hold_status == '' then
  local allowed, retry, new_q = rate_check(r, now, rate_interval, rate_burst, rate_tpm)
  if allowed then rate_commit(r, now, new_q) else code = 'RATE_LIMITED'; retry_after = retry end
end

if code == 'VALID' and hold_id ~= '' and hold_status == '' then
  redis.call('HSET', h, hold_id, 'h|' .. hold_units .. '|' .. hold_exp .. '|' .. window)
  redis.call('ZADD', hx, hold_exp, hold_id)
  redis.call('HINCRBY', hs, window, hold_units)
  redis.call('PEXPIRE', h, hold_ttl); redis.call('PEXPIRE', hx, hold_ttl); redis.call('PEXPIRE', hs, hold_ttl)
  held = add(held, big(hold_units))
  hold_status = 'held'
  if rate_tpm > 0 and hold_tokens > 0 then
    charge_tokens(r, now, rate_tpm, hold_tokens)
    redis.call('HSET', ht, hold_id, hold_tokens)
    redis.call('PEXPIRE', ht, hold_ttl)
  end
end
local answered_exp = ''
if hold_status == 'held' then answered_exp = hold_exp
elseif hold_status == 'already_held' then
  local _, _, exp = split_hold(redis.call('HGET', h, hold_id))
  answered_exp = exp
end
return {'OK', str(committed), str(pending), str(held), code, hold_status, answered_exp, tostring(retry_after)}
`;

/**
 * RATE: the rate-limit check of a key without a spend limit (a key with one is checked inside ADMIT, in the
 * same step as its limit and hold).
 *
 * KEYS: r. ARGV: now ms, request interval µs (0: none), burst, tokens per minute (0: none).
 * Returns `{allowed (1/0), retry after ms}`.
 */
export const RATE_SCRIPT = `${PRELUDE}
local now = tonumber(ARGV[1])
local allowed, retry, new_q = rate_check(KEYS[1], now, tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]))
if allowed then rate_commit(KEYS[1], now, new_q); return {1, 0} end
return {0, retry}
`;

/**
 * ACCEPT: what ingest records right after it queued a job, for every API key of the job in one hash slot.
 * A job a worker already wrote (marker `S`) adds no pending.
 *
 * KEYS: per API key: p, px, ps, h, hx, hs, r, ht.
 * ARGV: job id, pending expiry, tombstone forget time, pending ttl ms, now ms, then per API key: row count,
 * field × units pairs (the job's spend of that key per aggregate row), event count, event id × cost × tokens
 * triples, the key's tokens per minute (0: no token limit) and the job's tokens of that key (input + output).
 *
 * A token limit's counter moves on by the job's tokens at the key's rate (GCRA, domain/rate-limit.ts
 * chargeTokens), less what the holds these events post charged already (their expected tokens; never more
 * than the event's own). Tokens are counted here, so a job a worker wrote before this ran is charged too.
 *
 * Each event whose id names a live hold posts it (the hold's amount leaves the held sum; its cost is in
 * the job's pending rows). An event whose hold has not arrived yet leaves a tombstone, so the late hold
 * takes no room, but only for keys that use holds. Returns per API key `{posted, overruns, overrun units}`.
 */
export const ACCEPT_SCRIPT = `${PRELUDE}
local job, pending_exp, forget_at, pending_ttl, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local at = 6
local result = {}
for k = 0, (#KEYS / 8) - 1 do
  local p, px, ps, h, hx, hs, r, ht = KEYS[k*8+1], KEYS[k*8+2], KEYS[k*8+3], KEYS[k*8+4], KEYS[k*8+5], KEYS[k*8+6], KEYS[k*8+7], KEYS[k*8+8]
  local rows = tonumber(ARGV[at]); at = at + 1
  local written = redis.call('HEXISTS', p, job) == 1
  if rows > 0 and not written then
    local parts = {}
    for i = 1, rows do
      local field, units = ARGV[at + 2 * (i - 1)], ARGV[at + 2 * (i - 1) + 1]
      redis.call('HINCRBY', ps, field, units)
      parts[i] = field .. '=' .. units
    end
    redis.call('HSET', p, job, table.concat(parts, ';'))
    redis.call('ZADD', px, pending_exp, job)
    redis.call('PEXPIRE', p, pending_ttl); redis.call('PEXPIRE', px, pending_ttl); redis.call('PEXPIRE', ps, pending_ttl)
  end
  at = at + 2 * rows
  local events = tonumber(ARGV[at]); at = at + 1
  local posted, overruns, overrun = 0, 0, {0, 0}
  local uses_holds = events > 0 and redis.call('EXISTS', hx) == 1
  local prepaid = 0
  for i = 1, events do
    local id, cost, event_tokens = ARGV[at], ARGV[at + 1], tonumber(ARGV[at + 2]); at = at + 3
    if uses_holds then
      local v = redis.call('HGET', h, id)
      if not v then
        redis.call('HSET', h, id, 'p|0|' .. forget_at .. '|')
        redis.call('ZADD', hx, forget_at, id)
      else
        local state, units, exp, win = split_hold(v)
        if state == 'h' then
          decr(hs, win, units)
          redis.call('HSET', h, id, 'p|' .. units .. '|' .. exp .. '|' .. win)
          posted = posted + 1
          local expected = tonumber(redis.call('HGET', ht, id))
          if expected then
            prepaid = prepaid + math.min(expected, event_tokens)
            redis.call('HDEL', ht, id)
          end
          if cmp(big(cost), big(units)) > 0 then
            overruns = overruns + 1
            overrun = add(overrun, sub(big(cost), big(units)))
          end
        end
      end
    end
  end
  local tpm, tokens = tonumber(ARGV[at]), tonumber(ARGV[at + 1]); at = at + 2
  charge_tokens(r, now, tpm, tokens - prepaid)
  result[k + 1] = {posted, overruns, str(overrun)}
end
return result
`;

/**
 * SETTLE: what a worker does for a job's API keys while its PostgreSQL transaction still holds the
 * aggregate rows' locks: raise the mirror to the rows' new absolute values and drop the job's pending rows.
 * Because the rows stay locked until COMMIT, no later job's values can reach the mirror first, so written
 * and pending spend are never both counted.
 *
 * KEYS: per API key: c, ps, p, px.
 * ARGV: job id, drop pending (`1`/`0`), oldest day to keep (ms), mirror ttl ms, marker expiry ms, then per
 * API key: row count, field × absolute units pairs.
 */
export const SETTLE_SCRIPT = `${PRELUDE}
local job, drop, keep_from, ttl, marker_until = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local at = 6
for k = 0, (#KEYS / 4) - 1 do
  local c, ps, p, px = KEYS[k*4+1], KEYS[k*4+2], KEYS[k*4+3], KEYS[k*4+4]
  local rows = tonumber(ARGV[at]); at = at + 1
  for i = 1, rows do
    raise(c, ARGV[at], ARGV[at + 1]); at = at + 2
  end
  if rows > 0 then
    for _, field in ipairs(redis.call('HKEYS', c)) do
      if string.sub(field, 1, 2) == 'd:' and tonumber(string.sub(field, 3)) < keep_from then redis.call('HDEL', c, field) end
    end
    redis.call('PEXPIRE', c, ttl)
  end
  if drop == '1' then settle_job(p, px, ps, job, marker_until) end
end
return #KEYS / 4
`;

/**
 * RELEASE: voids a hold (the call failed).
 *
 * KEYS: h, hx, hs. ARGV: hold id, now, forget time.
 * Returns `{status, units}`: `released`, `already_posted`, `already_released`, `expired`, or `not_found`.
 */
export const RELEASE_SCRIPT = `${PRELUDE}
local h, hx, hs = KEYS[1], KEYS[2], KEYS[3]
local id, now, forget_at = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local v = redis.call('HGET', h, id)
if not v then return {'not_found', '0'} end
local state, units, exp, win = split_hold(v)
if state == 'p' then return {'already_posted', units} end
if state == 'r' then return {'already_released', units} end
if state == 'x' then return {'expired', units} end
decr(hs, win, units)
if tonumber(exp) <= now then
  redis.call('HSET', h, id, 'x|' .. units .. '|' .. exp .. '|' .. win)
  redis.call('ZADD', hx, forget_at, id)
  return {'expired', units}
end
redis.call('HSET', h, id, 'r|' .. units .. '|' .. exp .. '|' .. win)
redis.call('ZADD', hx, forget_at, id)
return {'released', units}
`;

/**
 * PEEK: what is pending and held in a key's limit window at `now`, for display (the key object, the
 * dashboard). Read only: it prunes nothing and seeds nothing (a listing must not write), so what has expired
 * but is not yet pruned is left out of the sums here instead (up to 1,000 of each; ADMIT prunes 100 a call).
 *
 * KEYS: ps, p, px, h, hx, hs. ARGV: now ms, window, mode ('f' fields or 'm' every month), n, fields….
 * Returns `{pending, held}` in units.
 */
export const PEEK_SCRIPT = `${PRELUDE}
local ps, p, px, h, hx, hs = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local now, window, mode = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local n = tonumber(ARGV[4])
local fields, wanted = {}, {}
for i = 1, n do fields[i] = ARGV[4 + i]; wanted[fields[i]] = true end
local pending
if mode == 'f' then pending = sum_fields(ps, fields) else pending = sum_months(ps) end
for _, job in ipairs(redis.call('ZRANGEBYSCORE', px, '-inf', now, 'LIMIT', 0, 1000)) do
  local rows = redis.call('HGET', p, job)
  if rows and rows ~= 'S' then
    for field, units in string.gmatch(rows, '([^;=]+)=([^;]+)') do
      if (mode == 'f' and wanted[field]) or (mode ~= 'f' and string.sub(field, 1, 2) == 'm:') then
        pending = sub(pending, big(units))
      end
    end
  end
end
local held = big(redis.call('HGET', hs, window))
for _, id in ipairs(redis.call('ZRANGEBYSCORE', hx, '-inf', now, 'LIMIT', 0, 1000)) do
  local v = redis.call('HGET', h, id)
  if v then
    local state, units, _, win = split_hold(v)
    if state == 'h' and win == window then held = sub(held, big(units)) end
  end
end
return {str(pending), str(held)}
`;
