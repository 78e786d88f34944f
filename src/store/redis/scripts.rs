//! The Lua scripts of the Redis store: each is one atomic round trip. Every key a script touches
//! is passed in `KEYS`, as Redis requires for scripts that must run unchanged behind proxies.

/// Compare-and-set. KEYS[1] is the document; KEYS[2..] are the side-effect targets.
/// ARGV: expected version, value, ttl in ms (0 = none), then one (op, arg, ttl) triple per side
/// effect. Every side effect is checked before the first write, so a refusal writes nothing (Lua
/// scripts do not roll back).
pub(super) const CAS: &str = r#"
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then return {0, current} end
for i = 2, #KEYS do
  local op, arg = ARGV[3 * i - 2], ARGV[3 * i - 1]
  local kind = redis.call('TYPE', KEYS[i])['ok']
  if op == 'sadd' or op == 'srem' then
    if kind ~= 'set' and kind ~= 'none' then return redis.error_reply('WRONGTYPE ' .. KEYS[i] .. ' is not a set') end
  elseif op == 'bind' then
    if kind ~= 'string' and kind ~= 'none' then return redis.error_reply('WRONGTYPE ' .. KEYS[i] .. ' is not a claim') end
    local held = redis.call('GET', KEYS[i])
    if held and held ~= arg then return {0, current} end
  elseif op == 'xadd' then
    if kind ~= 'stream' and kind ~= 'none' then return redis.error_reply('WRONGTYPE ' .. KEYS[i] .. ' is not a log') end
  else
    return redis.error_reply('unknown side effect ' .. op)
  end
end
local version = current + 1
redis.call('HSET', KEYS[1], 'v', version, 'd', ARGV[2])
if tonumber(ARGV[3]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('PERSIST', KEYS[1])
end
for i = 2, #KEYS do
  local op, arg, ttl = ARGV[3 * i - 2], ARGV[3 * i - 1], tonumber(ARGV[3 * i])
  if op == 'sadd' then redis.call('SADD', KEYS[i], arg)
  elseif op == 'srem' then redis.call('SREM', KEYS[i], arg)
  elseif op == 'xadd' then redis.call('XADD', KEYS[i], '*', 'v', arg)
  elseif ttl > 0 then redis.call('SET', KEYS[i], arg, 'PX', ttl)
  else redis.call('SET', KEYS[i], arg) end
end
return {1, version}
"#;

/// Claim. KEYS[1] is the key; ARGV: value, ttl in ms (0 = none). Returns false when claimed.
pub(super) const CLAIM: &str = r#"
local held = redis.call('GET', KEYS[1])
if held then return held end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return false
"#;

/// Release. KEYS[1] is the claim; ARGV[1] the value it must hold. Returns 1 when deleted.
pub(super) const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"#;

/// Renew. KEYS[1] is the claim; ARGV: the value it must hold, the new ttl in ms (at least 1).
/// Returns 1 when the expiry was reset.
pub(super) const RENEW: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"#;

/// Sliding-window admission over a sorted set scored by admission time in ms. KEYS[1] is the
/// window; ARGV: member, now, oldest time kept, window length (the key's TTL), limit. Returns
/// {admitted 0/1, count, oldest time or false}. The cutoff is computed by the caller and
/// concatenated as text, because Lua would print a large number in exponent notation.
pub(super) const ADMIT: &str = r#"
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
local count = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or count < tonumber(ARGV[5]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {1, redis.call('ZCARD', KEYS[1]), false}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then return {0, count, oldest[2]} end
return {0, count, false}
"#;
