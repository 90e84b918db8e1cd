// Incoming server frames: decode each envelope and turn it into events,
// room bookkeeping and the settling of pending joins, pings and leaves.
// Reliable messages (ServerMsg.seq > 0) are counted first: a duplicate is
// dropped before anything sees it, and an ack is scheduled after.

import { JoinError } from './errors.js';
import { errText } from './connection.js';
import { toSeq } from './session.js';
import { onResumed, onResumeRefused, checkResumeDone } from './resume.js';
import { onAuthenticated } from './auth.js';
import { nowMs } from './requests.js';

/** @typedef {import('./client.js').Client} Client */
/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {import('./types.js').JoinResult} JoinResult */

/**
 * @param {Client} client
 * @param {Conn} conn
 * @param {Uint8Array} bytes
 * @returns {any} the decoded game payload, or undefined when it does not decode
 */
function decodePayload(client, conn, bytes) {
  try {
    return conn.codec.decodeOutput(bytes);
  } catch (e) {
    client._emit('error', { code: 1007, reason: `playhouse-client: a game payload did not decode (${conn.token.token}): ${errText(e)}` });
    return undefined;
  }
}

/**
 * One server frame.
 * @param {Client} client
 * @param {Conn} conn
 * @param {Uint8Array} bytes
 */
export function onFrame(client, conn, bytes) {
  let msg;
  try {
    msg = conn.codec.decodeServer(bytes);
  } catch (e) {
    client._emit('error', { code: 1007, reason: `playhouse-client: a server message did not decode (${conn.token.token}): ${errText(e)}` });
    return;
  }
  const seq = toSeq(msg && msg.seq);
  if (seq > 0) {
    const before = client._session.lastSeq;
    const verdict = client._session.accept(seq);
    if (verdict === 'duplicate') return; // seen already (a replay overlapping what arrived)
    if (verdict === 'gap') {
      client._emit('error', {
        code: 1002,
        reason: `playhouse-client: reliable message ${seq} after ${before} without a resync: ${seq - before - 1} missing`,
      });
    }
  }
  dispatch(client, conn, msg);
  if (seq > 0) {
    client._session.noteReliable();
    checkResumeDone(client);
  }
}

/**
 * One decoded envelope (a duplicate never gets here).
 * @param {Client} client
 * @param {Conn} conn
 * @param {any} msg
 */
function dispatch(client, conn, msg) {
  const kind = msg && msg.kind;
  if (!kind || typeof kind !== 'object') return; // unknown kind (newer server): skip
  const name = Object.keys(kind)[0];
  const m = kind[name];
  if (!m || typeof m !== 'object') return;
  switch (name) {
    case 'state': {
      if (!client._rooms.has(m.room)) return;
      const payload = decodePayload(client, conn, m.payload);
      if (payload === undefined) return;
      client._emit('state', { room: m.room, tick: m.tick, acks: m.acks ?? [], payload });
      return;
    }
    case 'message': {
      if (!client._rooms.has(m.room)) return;
      const payload = decodePayload(client, conn, m.payload);
      if (payload === undefined) return;
      client._emit('message', { room: m.room, seq: m.seq, payload });
      return;
    }
    case 'joined':
      onJoined(client, m);
      return;
    case 'joinError': {
      const p = client._pendingJoins.get(m.request);
      if (p) p.reject(new JoinError({ request: m.request, code: m.code, reason: m.reason ?? '' }));
      return;
    }
    case 'pong': {
      const p = client._pendingPings.get(m.clientTime);
      if (p) {
        const rtt = nowMs() - p.started;
        client.rttMs = rtt;
        p.resolve(rtt);
      }
      client._emit('pong', { clientTime: m.clientTime, serverTime: m.serverTime });
      return;
    }
    case 'left': {
      const rec = client._rooms.get(m.room);
      if (rec) client._rooms.delete(m.room);
      client._leaving.delete(m.room);
      for (const p of [...(client._pendingLeaves.get(m.room) ?? [])]) p.resolve({ room: m.room, reason: m.reason, detail: m.detail ?? '' });
      client._pendingLeaves.delete(m.room);
      client._emit('left', { room: m.room, reason: m.reason, detail: m.detail ?? '' });
      return;
    }
    case 'error':
      if (onResumeRefused(client, conn, m)) return; // becomes `newSession`
      client._emit('error', m.room
        ? { code: m.code, reason: m.reason ?? '', room: m.room, inputSeq: m.inputSeq ?? 0 }
        : { code: m.code, reason: m.reason ?? '' });
      return;
    case 'resumed':
      onResumed(client, conn, m);
      return;
    case 'authenticated':
      onAuthenticated(client, conn, m);
      return;
    case 'shutdown':
      // The server is draining: the first reconnect waits at least this
      // long (plus the usual jitter, so clients do not return in a herd).
      client._shutdownHintMs = Math.max(0, Number(m.reconnectAfterMs ?? 0));
      client._emit('shutdown', { reconnectAfterMs: client._shutdownHintMs });
      return;
    default:
      return; // welcome again, or a case this client does not know
  }
}

/**
 * @param {Client} client
 * @param {any} m  the Joined envelope
 */
function onJoined(client, m) {
  const p = client._pendingJoins.get(m.request);
  /** @type {JoinResult} */
  const j = { room: m.room, roomType: m.roomType, tickHz: m.tickHz, client: m.client, request: m.request };
  if (!p) {
    const rec = client._rooms.get(m.room);
    if (rec && rec.rejoin) {
      // A rejoin whose answer came with a replay after its request had
      // failed with the connection: the seat is the one wanted.
      Object.assign(rec, { roomType: j.roomType, tickHz: j.tickHz, client: j.client, rejoin: false });
      client._emit('joined', j);
      return;
    }
    // The join timed out (or failed with its connection) here but succeeded
    // there: give the seat back.
    client._send({ kind: { leave: { room: m.room } } });
    return;
  }
  client._leaving.delete(m.room);
  client._rooms.set(m.room, {
    room: j.room,
    roomType: j.roomType,
    tickHz: j.tickHz,
    client: j.client,
    options: p.options,
    left: false,
    rejoin: false,
  });
  p.resolve(j);
  client._emit('joined', j);
}
