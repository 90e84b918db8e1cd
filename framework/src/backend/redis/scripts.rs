//! The Lua scripts of the Redis backend: every read-modify-write of the
//! directory is one script, so it is atomic on the server (Redis runs one
//! script at a time) and costs one round trip.
//!
//! Keys (prefix `P`, `ph:` by default; see `docs/cluster.md`):
//!
//! | key | type | what |
//! | --- | --- | --- |
//! | `P gen` | string | the store's generation: set once per empty store, so a node learns the store was reset (a Redis restarted without persistence) |
//! | `P secret` | string | the key every node signs resume tokens with (set by the first node; hex) |
//! | `P room:<id>` | hash | the room's record: `type node url clients max locked epoch`; its key TTL is the lease |
//! | `P rooms` | sorted set | every room id (listing); ids whose record expired are dropped as they are met |
//! | `P epoch:<id>` | string | the room id's last epoch (kept 24 h after its last registration) |
//! | `P node:<id>` | hash | a node's `url`; key TTL: the lease |
//! | `P nodes` | sorted set | node ids scored by when their entry expires (ms) |
//! | `P held:<id>` | sorted set | seats held for redirected clients: token scored by when the hold ends (ms); key TTL: the hold |
//!
//! Key names are built inside the scripts from the prefix, so this layout
//! needs one Redis (or a primary with Sentinel), not Redis Cluster.

/// `HELLO prefix fresh secret` → `{generation, secret}`: the store's
/// generation (`fresh` if it had none) and the cluster's resume-token key
/// (`secret` if it had none).
pub(super) const HELLO: &str = r#"
local p = ARGV[1]
redis.call('SET', p .. 'gen', ARGV[2], 'NX')
redis.call('SET', p .. 'secret', ARGV[3], 'NX')
return {redis.call('GET', p .. 'gen'), redis.call('GET', p .. 'secret')}
"#;

/// `REGISTER prefix id type node url clients max locked lease_ms` → the
/// room's epoch (from 1), or 0 while a live record has the id.
pub(super) const REGISTER: &str = r#"
local p, id = ARGV[1], ARGV[2]
local key = p .. 'room:' .. id
if redis.call('EXISTS', key) == 1 then
  return 0
end
local ekey = p .. 'epoch:' .. id
local epoch = redis.call('INCR', ekey)
redis.call('PEXPIRE', ekey, 86400000)
redis.call('HSET', key, 'type', ARGV[3], 'node', ARGV[4], 'url', ARGV[5],
  'clients', ARGV[6], 'max', ARGV[7], 'locked', ARGV[8], 'epoch', epoch)
redis.call('PEXPIRE', key, ARGV[9])
redis.call('ZADD', p .. 'rooms', 0, id)
return epoch
"#;

/// `RENEW prefix gen fresh node url lease_ms [id epoch clients locked]...`
/// → `{'ok', lost ids...}`, or `{'reset', gen}` when the store's
/// generation is not `gen` (it was emptied: nothing of anyone's is
/// recorded, so nothing was taken over; the node registers its rooms again
/// under the returned generation). An empty store gets generation `fresh`.
pub(super) const RENEW: &str = r#"
local p, node, lease = ARGV[1], ARGV[4], tonumber(ARGV[6])
local gen = redis.call('GET', p .. 'gen')
if not gen then
  redis.call('SET', p .. 'gen', ARGV[3])
  return {'reset', ARGV[3]}
end
if gen ~= ARGV[2] then
  return {'reset', gen}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', p .. 'node:' .. node, 'url', ARGV[5])
redis.call('PEXPIRE', p .. 'node:' .. node, lease)
redis.call('ZADD', p .. 'nodes', now + lease, node)
local out = {'ok'}
for i = 7, #ARGV, 4 do
  local key = p .. 'room:' .. ARGV[i]
  local owner = redis.call('HMGET', key, 'node', 'epoch')
  if owner[1] == node and owner[2] == ARGV[i + 1] then
    redis.call('HSET', key, 'clients', ARGV[i + 2], 'locked', ARGV[i + 3])
    redis.call('PEXPIRE', key, lease)
  else
    out[#out + 1] = ARGV[i]
  end
end
return out
"#;

/// `REMOVE prefix id node epoch` → 1 if removed (with its state: a
/// disposed room is not claimed), 0 if `node` at `epoch`
/// no longer owned it.
pub(super) const REMOVE: &str = r#"
local p, id = ARGV[1], ARGV[2]
local key = p .. 'room:' .. id
local owner = redis.call('HMGET', key, 'node', 'epoch')
if owner[1] == ARGV[3] and owner[2] == ARGV[4] then
  redis.call('DEL', key, p .. 'state:' .. id)
  redis.call('ZREM', p .. 'rooms', id)
  redis.call('SREM', p .. 'states', id)
  return 1
end
return 0
"#;

/// `LIST prefix type` (`''`: every type) → `{{id type node url clients max
/// locked epoch}...}`, dropping ids whose record expired.
pub(super) const LIST: &str = r#"
local p = ARGV[1]
local out = {}
for _, id in ipairs(redis.call('ZRANGE', p .. 'rooms', 0, -1)) do
  local h = redis.call('HMGET', p .. 'room:' .. id, 'type', 'node', 'url', 'clients', 'max', 'locked', 'epoch')
  if not h[1] then
    redis.call('ZREM', p .. 'rooms', id)
  elseif ARGV[2] == '' or h[1] == ARGV[2] then
    out[#out + 1] = {id, h[1], h[2], h[3], h[4], h[5], h[6], h[7]}
  end
end
return out
"#;

/// `RESERVE prefix room type asking token hold_ms` → `{'ok', id type node
/// url clients max locked epoch, token}` with a seat held in `room` (or, with
/// `room` empty, in the fullest open room of `type`) on a node other than
/// `asking`; else `{'not_found'}`, `{'full'}`, `{'locked'}` or `{'none'}`,
/// or, for a room by id, `{'moving'}` while a claim is coming: no lease
/// record but a saved state whose node is gone from the live nodes or
/// released it in a drain (the `handover` flag is up), or a record that
/// names `asking` itself (it has claimed the room and is restoring it).
/// A state a claimer gave back (it could not rebuild the room) names a
/// live node and raises no flag: not found.
/// Held seats live in `P held:<id>` (token → until, ms) and count against
/// the room until they run out.
pub(super) const RESERVE: &str = r#"
local p, asking, token, hold = ARGV[1], ARGV[4], ARGV[5], tonumber(ARGV[6])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function seat(id, want_type)
  local h = redis.call('HMGET', p .. 'room:' .. id, 'type', 'node', 'url', 'clients', 'max', 'locked', 'epoch')
  if not h[1] then return 'gone' end
  if want_type ~= '' and h[1] ~= want_type then return 'other' end
  if h[2] == asking then return 'mine' end
  if h[6] == '1' then return 'locked' end
  local hk = p .. 'held:' .. id
  redis.call('ZREMRANGEBYSCORE', hk, '-inf', now)
  if tonumber(h[4]) + redis.call('ZCARD', hk) >= tonumber(h[5]) then return 'full' end
  redis.call('ZADD', hk, now + hold, token)
  redis.call('PEXPIRE', hk, hold)
  return {'ok', id, h[1], h[2], h[3], h[4], h[5], h[6], h[7], token}
end
if ARGV[2] ~= '' then
  local r = seat(ARGV[2], '')
  if type(r) == 'table' then return r end
  if r == 'mine' then return {'moving'} end
  if r == 'gone' then
    local owner = redis.call('HGET', p .. 'state:' .. ARGV[2], 'node')
    if owner then
      local live = redis.call('ZSCORE', p .. 'nodes', owner)
      if redis.call('EXISTS', p .. 'handover') == 1 or not live or tonumber(live) <= now then
        return {'moving'}
      end
    end
    return {'not_found'}
  end
  return {r}
end
-- The fullest open room of the type: players fill rooms before spreading.
local best, best_used = nil, -1
for _, id in ipairs(redis.call('ZRANGE', p .. 'rooms', 0, -1)) do
  local h = redis.call('HMGET', p .. 'room:' .. id, 'type', 'node', 'clients', 'max', 'locked')
  if not h[1] then
    redis.call('ZREM', p .. 'rooms', id)
  elseif h[1] == ARGV[3] and h[2] ~= asking and h[5] ~= '1' then
    local hk = p .. 'held:' .. id
    redis.call('ZREMRANGEBYSCORE', hk, '-inf', now)
    local used = tonumber(h[3]) + redis.call('ZCARD', hk)
    if used < tonumber(h[4]) and used > best_used then best, best_used = id, used end
  end
end
if best then
  local r = seat(best, ARGV[3])
  if type(r) == 'table' then return r end
end
return {'none'}
"#;

/// `HELD prefix id token` → 1 if the held seat `token` of room `id` was
/// still held: it is given back and the room counts one client more (the
/// owner seated the redirected client; its next renewal brings the exact
/// count); else 0.
pub(super) const HELD: &str = r#"
local p, id = ARGV[1], ARGV[2]
if redis.call('ZREM', p .. 'held:' .. id, ARGV[3]) == 1 and redis.call('EXISTS', p .. 'room:' .. id) == 1 then
  redis.call('HINCRBY', p .. 'room:' .. id, 'clients', 1)
  return 1
end
return 0
"#;

/// `NODES prefix` → `{{id url ms_left}...}` of the nodes whose entry has not
/// expired, with the milliseconds until it does.
pub(super) const NODES: &str = r#"
local p = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', p .. 'nodes', '-inf', now)
local out = {}
local ids = redis.call('ZRANGE', p .. 'nodes', 0, -1, 'WITHSCORES')
for i = 1, #ids, 2 do
  local url = redis.call('HGET', p .. 'node:' .. ids[i], 'url')
  if url then out[#out + 1] = {ids[i], url, math.floor(tonumber(ids[i + 1]) - now)} end
end
return out
"#;

/// `LEAVE prefix node` → 1: node `node` stops; its entry leaves the live
/// nodes (`nodes`, `node:<id>`) at once rather than when it expires.
pub(super) const LEAVE: &str = r#"
local p, node = ARGV[1], ARGV[2]
redis.call('ZREM', p .. 'nodes', node)
redis.call('DEL', p .. 'node:' .. node)
return 1
"#;
