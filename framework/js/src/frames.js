// Incoming server frames: decode each envelope and turn it into events,
// room bookkeeping and the settling of pending joins, pings and leaves.
// Reliable messages (ServerMsg.seq > 0) are counted first: a duplicate is
// dropped before anything sees it, and an ack is scheduled after.

import { JoinError } from './errors.js';
import { errText } from './connection.js';
import { toSeq } from './session.js';
import { followRedirect } from './redirect.js';

/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {import('./types.js').JoinResult} JoinResult */
/**
 * The parts of the client a frame may touch.
 * @typedef {Pick<import('./types.js').Core, 'link' | 'session' | 'rooms' | 'requests' | 'resumer' | 'auth' | 'emit' | 'dialer' | 'channels' | 'baselines'>} FrameCore
 */

/**
 * A game payload, decoded as its frame's type: a state (`game.state`) or a
 * reliable message (`game.message`).
 * @param {FrameCore} core
 * @param {Conn} conn
 * @param {'state' | 'message'} kind
 * @param {Uint8Array} bytes
 * @returns {any} the decoded game payload, or undefined when it does not decode
 */
function decodePayload(core, conn, kind, bytes) {
  try {
    return kind === 'state' ? conn.codec.decodeState(bytes) : conn.codec.decodeMessage(bytes);
  } catch (e) {
    core.emit('error', { code: 1007, reason: `playhouse-client: a game ${kind} did not decode (${conn.token.token}): ${errText(e)}` });
    return undefined;
  }
}

/**
 * One server frame.
 * @param {FrameCore} core
 * @param {Conn} conn
 * @param {Uint8Array} bytes
 */
export function onFrame(core, conn, bytes) {
  const { session, resumer, emit } = core;
  let msg;
  try {
    msg = conn.codec.decodeServer(bytes);
  } catch (e) {
    emit('error', { code: 1007, reason: `playhouse-client: a server message did not decode (${conn.token.token}): ${errText(e)}` });
    return;
  }
  const seq = toSeq(msg && msg.seq);
  if (seq > 0) {
    const before = session.lastSeq;
    const verdict = session.accept(seq);
    if (verdict === 'duplicate') return; // seen already (a replay overlapping what arrived)
    if (verdict === 'gap') {
      emit('error', {
        code: 1002,
        reason: `playhouse-client: reliable message ${seq} after ${before} without a resync: ${seq - before - 1} missing`,
      });
    }
  }
  dispatch(core, conn, msg);
  if (seq > 0) {
    session.noteReliable();
    resumer.checkDone();
  }
}

/**
 * One decoded envelope (a duplicate never gets here).
 * @param {FrameCore} core
 * @param {Conn} conn
 * @param {any} msg
 */
function dispatch(core, conn, msg) {
  const { link, rooms, requests, resumer, auth, emit } = core;
  const kind = msg && msg.kind;
  if (!kind || typeof kind !== 'object') return; // unknown kind (newer server): skip
  const name = Object.keys(kind)[0];
  const m = kind[name];
  if (!m || typeof m !== 'object') return;
  switch (name) {
    case 'state': {
      if (!rooms.has(m.room)) return;
      // A compressed payload is inflated, then a delta becomes the whole state
      // it stands for (baselines.js): the game sees only whole, plain states.
      const bytes = core.baselines.payloadOf(m);
      if (!bytes) return;
      const payload = decodePayload(core, conn, 'state', bytes);
      if (payload === undefined) return;
      core.baselines.applied(m.room, m.tick, bytes, m.baseline);
      emit('state', { room: m.room, tick: m.tick, acks: m.acks ?? [], payload });
      return;
    }
    case 'message': {
      if (!rooms.has(m.room)) return;
      const payload = decodePayload(core, conn, 'message', m.payload);
      if (payload === undefined) return;
      emit('message', { room: m.room, seq: m.seq, payload });
      return;
    }
    case 'joined':
      onJoined(core, m);
      return;
    case 'joinError': {
      const p = requests.joinFor(m.request);
      if (p) p.reject(new JoinError({ request: m.request, code: m.code, reason: m.reason ?? '' }));
      return;
    }
    case 'redirect':
      // The session lives on another node: the resume goes on there (rejoin.js).
      if (resumer.onRedirect(conn, m)) return;
      // The join's room lives on another node: move there, or refuse (redirect.js).
      void followRedirect(core, conn, m);
      return;
    case 'pong':
      requests.pong(m.clientTime);
      emit('pong', { clientTime: m.clientTime, serverTime: m.serverTime });
      return;
    case 'left': {
      const left = { room: m.room, reason: m.reason, detail: m.detail ?? '' };
      rooms.delete(m.room);
      rooms.doneLeaving(m.room);
      requests.settleLeaves(m.room, left);
      emit('left', { ...left });
      return;
    }
    case 'error':
      if (resumer.onRefused(conn, m)) return; // becomes `newSession`
      emit('error', m.room
        ? { code: m.code, reason: m.reason ?? '', room: m.room, inputSeq: m.inputSeq ?? 0 }
        : { code: m.code, reason: m.reason ?? '' });
      return;
    case 'resumed':
      resumer.onResumed(conn, m);
      return;
    case 'authenticated':
      auth.onAuthenticated(conn, m);
      return;
    case 'shutdown':
      // The server is draining: the first reconnect waits at least this
      // long (plus the usual jitter, so clients do not return in a herd).
      link.shutdownHintMs = Math.max(0, Number(m.reconnectAfterMs ?? 0));
      // A draining cluster node names the node it handed the session to:
      // the reconnect resumes there first (reconnect.js).
      link.shutdownUrl = typeof m.url === 'string' ? m.url : '';
      emit('shutdown', { reconnectAfterMs: link.shutdownHintMs, url: link.shutdownUrl });
      return;
    // Channels (channels.js): reliable, counted above like the room messages.
    case 'subscribed':
      core.channels.onSubscribed(m);
      return;
    case 'publication':
      core.channels.onPublication(m);
      return;
    case 'presenceChange':
      core.channels.onPresence(m);
      return;
    case 'channelError':
      core.channels.onChannelError(m);
      return;
    default:
      return; // welcome again, or a case this client does not know
  }
}

/**
 * @param {FrameCore} core
 * @param {any} m  the Joined envelope
 */
function onJoined({ link, rooms, requests, emit }, m) {
  const p = requests.joinFor(m.request);
  /** @type {JoinResult} */
  const j = { room: m.room, roomType: m.roomType, tickHz: m.tickHz, client: m.client, request: m.request };
  if (!p) {
    const rec = rooms.get(m.room);
    if (rec && rec.rejoin) {
      // A rejoin whose answer came with a replay after its request had
      // failed with the connection: the seat is the one wanted.
      Object.assign(rec, { roomType: j.roomType, tickHz: j.tickHz, client: j.client, rejoin: false });
      emit('joined', { ...j, previous: rec.room });
      return;
    }
    // The join timed out (or failed with its connection) here but succeeded
    // there: give the seat back.
    link.send({ kind: { leave: { room: m.room } } });
    return;
  }
  rooms.doneLeaving(m.room);
  rooms.set({
    room: j.room,
    roomType: j.roomType,
    tickHz: j.tickHz,
    client: j.client,
    options: p.options,
    left: false,
    rejoin: false,
  });
  if (p.previous !== undefined) j.previous = p.previous;
  p.resolve(j);
  emit('joined', j);
}
