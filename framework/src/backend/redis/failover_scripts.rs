//! The Lua scripts of failover (see `backend::failover`): room states,
//! claims, releases, and the session records and logs.
//!
//! Keys, besides those of `scripts.rs` (prefix `P`):
//!
//! | key | type | what |
//! | --- | --- | --- |
//! | `P state:<id>` | hash | a room's state: `type max epoch node blob`; outlives the lease (kept for the configured time past its last write) |
//! | `P states` | set | every room id with a state (what claims scan) |
//! | `P sess:<key>` | hash | a session's record: `blob stream holder` |
//! | `P slog:<stream>` | stream | the session's reliable frames, entry id `<seq>-1`, field `f` |
//! | `P handover` | string | set by a release (10 s TTL): a node is handing rooms over, claim now |

/// `SAVE prefix id node epoch blob keep_ms` → 1 if written (the lease
/// record names `node` at `epoch`), else 0.
pub(super) const SAVE: &str = r#"
local p, id = ARGV[1], ARGV[2]
local r = redis.call('HMGET', p .. 'room:' .. id, 'node', 'epoch', 'type', 'max')
if r[1] ~= ARGV[3] or r[2] ~= ARGV[4] then
  return 0
end
local sk = p .. 'state:' .. id
redis.call('HSET', sk, 'type', r[3], 'max', r[4], 'epoch', ARGV[4], 'node', ARGV[3], 'blob', ARGV[5])
redis.call('PEXPIRE', sk, ARGV[6])
redis.call('SADD', p .. 'states', id)
return 1
"#;

/// `RELEASE prefix id node epoch nudge` → 1 if `node` owned room `id` at
/// `epoch`: its lease record goes (its state stays, to be claimed), and
/// `P handover` (unless `nudge` is `0`) tells the other nodes to claim now
/// rather than at their next scan.
pub(super) const RELEASE: &str = r#"
local p, id = ARGV[1], ARGV[2]
local key = p .. 'room:' .. id
local r = redis.call('HMGET', key, 'node', 'epoch')
if r[1] ~= ARGV[3] or r[2] ~= ARGV[4] then
  return 0
end
redis.call('DEL', key, p .. 'held:' .. id)
redis.call('ZREM', p .. 'rooms', id)
if ARGV[5] ~= '0' then
  redis.call('SET', p .. 'handover', '1', 'PX', 10000)
end
return 1
"#;

/// `CLAIM prefix node url lease_ms max` → flat `{id type max epoch blob
/// from}...`: the orphans (a state, no lease record) of one former owner,
/// now `node`'s at epoch + 1 with a fresh lease. Fewer than `max` and no
/// other owner's orphan passed over: none is left, and the `P handover`
/// flag goes (another owner's orphans keep it: a second drain at once).
pub(super) const CLAIM: &str = r#"
local p, node, url, lease, max = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local from = nil
local out = {}
local n, passed = 0, false
for _, id in ipairs(redis.call('SMEMBERS', p .. 'states')) do
  if n >= max then break end
  local sk = p .. 'state:' .. id
  if redis.call('EXISTS', sk) == 0 then
    redis.call('SREM', p .. 'states', id)
  elseif redis.call('EXISTS', p .. 'room:' .. id) == 0 then
    local s = redis.call('HMGET', sk, 'type', 'max', 'epoch', 'node', 'blob')
    if from == nil or from == s[4] then
      from = s[4]
      local ekey = p .. 'epoch:' .. id
      local epoch = math.max(tonumber(redis.call('GET', ekey) or '0'), tonumber(s[3])) + 1
      redis.call('SET', ekey, epoch, 'PX', 86400000)
      local key = p .. 'room:' .. id
      redis.call('HSET', key, 'type', s[1], 'node', node, 'url', url, 'clients', 0, 'max', s[2], 'locked', 0,
        'epoch', epoch)
      redis.call('PEXPIRE', key, lease)
      redis.call('ZADD', p .. 'rooms', 0, id)
      redis.call('HSET', sk, 'node', node, 'epoch', epoch)
      out[#out + 1] = id
      out[#out + 1] = s[1]
      out[#out + 1] = s[2]
      out[#out + 1] = tostring(epoch)
      out[#out + 1] = s[5]
      out[#out + 1] = s[4]
      n = n + 1
    else
      passed = true
    end
  end
end
if n < max and not passed then
  redis.call('DEL', p .. 'handover')
end
return out
"#;

/// `SESSIONS prefix ttl_ms op...` where an op is `R key blob stream`,
/// `A stream seq frame max_len`, `T stream upto`, `D key stream` or
/// `H key url` → the number of ops applied. An append at or below the
/// stream's last seq is ignored (XADD refuses it), so a retried batch
/// never duplicates a frame.
pub(super) const SESSIONS: &str = r#"
local p, ttl = ARGV[1], ARGV[2]
local i, n = 3, 0
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'R' then
    local key, sl = p .. 'sess:' .. ARGV[i + 1], p .. 'slog:' .. ARGV[i + 3]
    redis.call('HSET', key, 'blob', ARGV[i + 2], 'stream', ARGV[i + 3])
    redis.call('PEXPIRE', key, ttl)
    redis.call('PEXPIRE', sl, ttl)
    i = i + 4
  elseif op == 'A' then
    local sl = p .. 'slog:' .. ARGV[i + 1]
    redis.pcall('XADD', sl, 'MAXLEN', ARGV[i + 4], ARGV[i + 2] .. '-1', 'f', ARGV[i + 3])
    redis.call('PEXPIRE', sl, ttl)
    i = i + 5
  elseif op == 'T' then
    redis.call('XTRIM', p .. 'slog:' .. ARGV[i + 1], 'MINID', (tonumber(ARGV[i + 2]) + 1) .. '-0')
    i = i + 3
  elseif op == 'D' then
    redis.call('DEL', p .. 'sess:' .. ARGV[i + 1], p .. 'slog:' .. ARGV[i + 2])
    i = i + 3
  elseif op == 'H' then
    local key = p .. 'sess:' .. ARGV[i + 1]
    if redis.call('EXISTS', key) == 1 then
      redis.call('HSET', key, 'holder', ARGV[i + 2])
    end
    i = i + 3
  else
    return redis.error_reply('unknown session op ' .. tostring(op))
  end
  n = n + 1
end
return n
"#;

/// `LOAD prefix key...` → flat `{key blob stream count (id frame)*count}...`
/// for each key still recorded.
pub(super) const LOAD: &str = r#"
local p = ARGV[1]
local out = {}
for i = 2, #ARGV do
  local h = redis.call('HMGET', p .. 'sess:' .. ARGV[i], 'blob', 'stream')
  if h[1] and h[2] then
    local entries = redis.call('XRANGE', p .. 'slog:' .. h[2], '-', '+')
    out[#out + 1] = ARGV[i]
    out[#out + 1] = h[1]
    out[#out + 1] = h[2]
    out[#out + 1] = tostring(#entries)
    for _, e in ipairs(entries) do
      out[#out + 1] = e[1]
      out[#out + 1] = e[2][2]
    end
  end
end
return out
"#;
