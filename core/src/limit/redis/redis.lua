-- One rate-limit check, atomic in Redis: the same arithmetic as gcra.rs (ordinary
-- limits) and sliding.rs (strict limits); keep the three in step.
--
-- KEYS[1]  the key's state: a string (GCRA's theoretical arrival time) or a list
--          (the sliding log's admission times, oldest first)
-- ARGV     now_us, count, period_us, strict (1 or 0), interval_us (GCRA's T, computed
--          in Rust so both stores round it the same way)
-- Returns  {allowed (1/0), remaining, reset_us, retry_after_us}
--
-- Timestamps are microseconds since the epoch, about 2^51 today: exact in Lua's
-- doubles (2^53), but `tostring` prints them in %.14g, so they are stored with
-- string.format('%.0f', x).

local key = KEYS[1]
local now = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local strict = ARGV[4] == '1'
local interval = tonumber(ARGV[5])

local function us(x)
  return string.format('%.0f', x)
end

-- Idle keys vanish once their state no longer matters, plus a second: Redis counts
-- the TTL on its own clock, and instances' clocks (which stamp `now`) differ a little.
local function ttl_ms(x)
  return math.ceil(x / 1000) + 1000
end

local kind = redis.call('TYPE', key).ok

if strict then
  -- A limit that became strict across a reload starts afresh, as in the memory store.
  if kind ~= 'list' and kind ~= 'none' then
    redis.call('DEL', key)
  end
  local at = now
  local newest = redis.call('LINDEX', key, -1)
  if newest then
    at = math.max(now, tonumber(newest))
  end
  while true do
    local oldest = redis.call('LINDEX', key, 0)
    if not oldest or tonumber(oldest) + period > at then
      break
    end
    redis.call('LPOP', key)
  end
  local held = redis.call('LLEN', key)
  if held < count then
    redis.call('RPUSH', key, us(at))
    redis.call('PEXPIRE', key, ttl_ms(at + period - now))
    return {1, count - held - 1, us(at + period - now), 0}
  end
  -- A count lowered across a reload: the count-th newest entry must expire first.
  local gate = tonumber(redis.call('LINDEX', key, held - count))
  local last = tonumber(redis.call('LINDEX', key, -1))
  return {0, 0, us(last + period - now), us(gate + period - now)}
end

if kind ~= 'string' and kind ~= 'none' then
  redis.call('DEL', key)
end
local tau = interval * (count - 1)
local tat = tonumber(redis.call('GET', key) or now)
local start = math.max(tat, now)
local ahead = start - now
if ahead <= tau then
  local next_tat = start + interval
  redis.call('SET', key, us(next_tat), 'PX', ttl_ms(next_tat - now))
  return {1, math.floor((tau - ahead) / interval), us(next_tat - now), 0}
end
return {0, 0, us(ahead), us(ahead - tau)}
