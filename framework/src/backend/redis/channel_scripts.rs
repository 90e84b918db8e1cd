//! The Lua scripts of the Redis channels: each publish, history read and
//! presence change is one script, atomic on the server.
//!
//! Keys (prefix `P`; channel names are checked before they get here, so
//! they are safe in key names):
//!
//! | key | type | what |
//! | --- | --- | --- |
//! | `P chm:<ch>` | hash, TTL 24 h from the last publish | `offset epoch`: the channel's last offset and its history's epoch |
//! | `P chs:<ch>` | stream, TTL = history age | the history: fields `o` (offset) `d` (payload) `u` (publisher); `MAXLEN` = history size, `MINID` = now − age |
//! | `P prs:<ch>` | sorted set, TTL = presence TTL | presence: member scored by when its entry expires (ms) |
//!
//! Every publication and presence change is `PUBLISH`ed on the pub/sub
//! channel `P pub:<ch>` (each node holds one `PSUBSCRIBE P pub:*`):
//! `p<offset>:<epoch>:<publisher length>:<publisher><payload>` for a
//! publication, `j<member>` / `l<member>` for a presence join / leave.

/// `PUBLISH prefix channel payload publisher size age_ms fresh_epoch` →
/// `{offset, epoch}`. A channel without metadata (new, or lost) starts a new
/// epoch under `fresh_epoch`, and its old stream is dropped.
pub(super) const PUBLISH: &str = r#"
local p, ch, payload, publisher = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local size, age = tonumber(ARGV[5]), tonumber(ARGV[6])
local meta, stream = p .. 'chm:' .. ch, p .. 'chs:' .. ch
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  epoch = ARGV[7]
  redis.call('HSET', meta, 'epoch', epoch)
  redis.call('DEL', stream)
end
local offset = redis.call('HINCRBY', meta, 'offset', 1)
redis.call('PEXPIRE', meta, 86400000)
if size > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('XADD', stream, 'MAXLEN', size, '*', 'o', offset, 'd', payload, 'u', publisher)
  redis.call('XTRIM', stream, 'MINID', now - age)
  redis.call('PEXPIRE', stream, age)
end
redis.call('PUBLISH', p .. 'pub:' .. ch,
  'p' .. offset .. ':' .. epoch .. ':' .. string.len(publisher) .. ':' .. publisher .. payload)
return {offset, epoch}
"#;

/// `HISTORY prefix channel since_offset since_epoch age_ms fresh_epoch` →
/// `{offset, epoch, recovered (0/1), [offset, payload, publisher]...}`.
/// An empty `since_epoch` asks only for the position. Publications after
/// `since_offset` come only when `since_epoch` is the channel's; recovered
/// is 1 when nothing after `since_offset` is missing from them.
pub(super) const HISTORY: &str = r#"
local p, ch = ARGV[1], ARGV[2]
local since, want, age = tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local meta, stream = p .. 'chm:' .. ch, p .. 'chs:' .. ch
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  epoch = ARGV[6]
  redis.call('HSET', meta, 'epoch', epoch, 'offset', 0)
  redis.call('PEXPIRE', meta, 86400000)
  redis.call('DEL', stream)
end
local offset = tonumber(redis.call('HGET', meta, 'offset') or '0')
if want == '' or want ~= epoch or since > offset then
  return {offset, epoch, 0}
end
if since == offset then
  return {offset, epoch, 1}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XTRIM', stream, 'MINID', now - age)
local out = {offset, epoch, 0}
local first = nil
for _, e in ipairs(redis.call('XRANGE', stream, '-', '+')) do
  local f = e[2]
  local o = tonumber(f[2])
  if o > since then
    if not first then first = o end
    table.insert(out, o)
    table.insert(out, f[4])
    table.insert(out, f[6])
  end
end
if first == since + 1 then
  out[3] = 1
end
return out
"#;

/// Drops `key`'s expired presence entries (before `now`) and announces
/// each as left on `chan`. Shared by the presence scripts.
const SWEEP: &str = r#"
local function sweep(key, chan, now)
  local gone = redis.call('ZRANGEBYSCORE', key, '-inf', now)
  if #gone > 0 then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    for _, m in ipairs(gone) do
      redis.call('PUBLISH', chan, 'l' .. m)
    end
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"#;

/// `JOIN prefix channel member ttl_ms max` → the members now (at most
/// 1000). A member that was not there is announced as joined; a channel at
/// `max` members records no new one.
pub(super) fn join() -> String {
    SWEEP.to_string()
        + r#"
local p, ch, member, ttl, max = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local key, chan = p .. 'prs:' .. ch, p .. 'pub:' .. ch
sweep(key, chan, now)
if redis.call('ZSCORE', key, member) then
  redis.call('ZADD', key, now + ttl, member)
elseif redis.call('ZCARD', key) < max then
  redis.call('ZADD', key, now + ttl, member)
  redis.call('PUBLISH', chan, 'j' .. member)
end
redis.call('PEXPIRE', key, ttl)
return redis.call('ZRANGE', key, 0, 999)
"#
}

/// `LEAVE prefix channel member` → 1 if it was there (announced as left).
pub(super) const LEAVE: &str = r#"
local p, ch, member = ARGV[1], ARGV[2], ARGV[3]
if redis.call('ZREM', p .. 'prs:' .. ch, member) == 1 then
  redis.call('PUBLISH', p .. 'pub:' .. ch, 'l' .. member)
  return 1
end
return 0
"#;

/// `REFRESH prefix ttl_ms [channel member]...` → the entries refreshed.
/// First drops the expired entries of the named channels (a dead node's;
/// announced as left), then puts this node's entries back for `ttl` (one
/// that had expired meanwhile is announced as joined again).
pub(super) fn refresh() -> String {
    SWEEP.to_string()
        + r#"
local p, ttl = ARGV[1], tonumber(ARGV[2])
local swept = {}
for i = 3, #ARGV, 2 do
  local ch = ARGV[i]
  if not swept[ch] then
    swept[ch] = true
    sweep(p .. 'prs:' .. ch, p .. 'pub:' .. ch, now)
  end
end
local n = 0
for i = 3, #ARGV, 2 do
  local key = p .. 'prs:' .. ARGV[i]
  if redis.call('ZADD', key, now + ttl, ARGV[i + 1]) == 1 then
    redis.call('PUBLISH', p .. 'pub:' .. ARGV[i], 'j' .. ARGV[i + 1])
  end
  redis.call('PEXPIRE', key, ttl)
  n = n + 1
end
return n
"#
}
