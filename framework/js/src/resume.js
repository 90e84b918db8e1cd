// Resuming a session on a new connection: send `Resume{token, lastSeq}` as
// the first message, take `Resumed` (or a refusal), let the replayed reliable
// messages through as ordinary events, and when the last of them has been
// handled, reconcile the rooms with the server's list and emit `resumed`.
//
// The reconcile runs inside the frame handler of the last replayed message,
// not in the reconnect loop's continuation: several frames of one TCP read
// are dispatched back to back, and the ones after the replay (a `Left`, say)
// must see the reconciled rooms.

import { ConnectionClosedError, TimeoutError } from './errors.js';

/** @typedef {import('./client.js').Client} Client */
/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {import('./types.js').ResumeOutcome} ResumeOutcome */
/** @typedef {import('./types.js').ResumeWait} ResumeWait */
/** @typedef {import('./types.js').ResumedEvent} ResumedEvent */
/** @typedef {import('./types.js').RoomInfo} RoomInfo */

/**
 * A decoded `Resumed` (fields as the codecs give them; checked here).
 * @typedef {object} ResumedMsg
 * @property {unknown} [session]
 * @property {unknown} [resumeToken]
 * @property {unknown} [replayed]
 * @property {unknown} [resync]
 * @property {unknown} [rooms]
 */

/**
 * One `Joined` of `Resumed.rooms` as a {@link RoomInfo} (null if it names no room).
 * @param {unknown} j
 * @returns {RoomInfo | null}
 */
function roomInfo(j) {
  if (!j || typeof j !== 'object') return null;
  const { room, roomType, tickHz, client } = /** @type {Record<string, unknown>} */ (j);
  if (typeof room !== 'string' || !room) return null;
  return {
    room,
    roomType: typeof roomType === 'string' ? roomType : '',
    tickHz: Number(tickHz) || 0,
    client: Number(client) || 0,
  };
}

/** `Error.code` of a refused resume (docs/protocol.md; envelope.proto `Resume`). */
export const ERROR_RESUME_UNAVAILABLE = 4002;
/** `Error.code` of a message kind the server does not know (a server without resume). */
export const ERROR_UNKNOWN_KIND = 1003;

/**
 * Sends `Resume` on `conn` (attached, nothing sent on it yet) and resolves
 * once the session is resumed and the replay handled (`{ ok: true }`) or the
 * server refused (`{ ok: false, reason }`). Rejects when the connection
 * closes or no answer comes within the client's `timeoutMs`.
 * @param {Client} client
 * @param {Conn} conn
 * @returns {Promise<ResumeOutcome>}
 */
export function resume(client, conn) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      if (client._resumeWait === wait) client._resumeWait = null;
      reject(new TimeoutError(`playhouse-client: resume: no answer within ${client._timeoutMs} ms`));
    }, client._timeoutMs);
    /** @type {ResumeWait} */
    const wait = {
      conn,
      answer: null,
      replayUntil: 0,
      resolve: (r) => {
        clearTimeout(timer);
        resolve(r);
      },
      reject: (e) => {
        clearTimeout(timer);
        reject(e);
      },
    };
    client._resumeWait = wait;
    const sent = client._send({ kind: { resume: { token: client._session.token, lastSeq: client._session.lastSeq } } });
    if (!sent) {
      client._resumeWait = null;
      wait.reject(new ConnectionClosedError(1006, 'not connected', 'resume'));
    }
  });
}

/**
 * `Resumed` arrived on `conn`.
 * @param {Client} client
 * @param {Conn} conn
 * @param {ResumedMsg} m  the Resumed envelope
 */
export function onResumed(client, conn, m) {
  const wait = client._resumeWait;
  if (!wait || wait.conn !== conn || wait.answer) return; // not asked for on this connection: ignore
  client._session.resumed(m);
  const replayed = Math.max(0, Number(m.replayed) || 0);
  const resync = m.resync === true;
  /** @type {RoomInfo[]} */
  const rooms = [];
  for (const j of Array.isArray(m.rooms) ? m.rooms : []) {
    const info = roomInfo(j);
    if (info) rooms.push(info);
  }
  wait.answer = { session: client._session.id, replayed, resync, rooms };
  // The replayed messages are lastSeq+1 … lastSeq+replayed (none on a resync).
  wait.replayUntil = client._session.lastSeq + (resync ? 0 : replayed);
  checkResumeDone(client);
}

/**
 * A refusal (`Error` 4002, or 1003 from a server that does not know `Resume`)
 * for the resume in flight on `conn`. Returns whether it was one.
 * @param {Client} client
 * @param {Conn} conn
 * @param {{ code?: unknown, reason?: unknown }} m  the Error envelope
 * @returns {boolean}
 */
export function onResumeRefused(client, conn, m) {
  const wait = client._resumeWait;
  if (!wait || wait.conn !== conn || wait.answer) return false;
  if (m.code !== ERROR_RESUME_UNAVAILABLE && m.code !== ERROR_UNKNOWN_KIND) return false;
  client._resumeWait = null;
  wait.resolve({ ok: false, reason: String(m.reason ?? '') || `error ${m.code}` });
  return true;
}

/**
 * After `Resumed` and after each reliable message: once the whole replay
 * has been handled, reconcile the rooms, emit `resumed`, and let the
 * reconnect loop go on.
 * @param {Client} client
 */
export function checkResumeDone(client) {
  const wait = client._resumeWait;
  if (!wait || !wait.answer || client._session.lastSeq < wait.replayUntil) return;
  client._resumeWait = null;
  reconcileRooms(client, wait.answer.rooms);
  client._emit('resumed', wait.answer);
  wait.resolve({ ok: true, resumed: wait.answer });
}

/**
 * Makes the client's rooms what the server says the session is in. The list
 * describes the session after the replayed messages, so it is compared only
 * once they have been handled.
 *
 * - a room of the client not in the list: gone without a `Left` having
 *   arrived (it was lost with a resync): forgotten, and `left` is emitted
 *   with reason 0. Rooms still to be rejoined (their seat was in an older
 *   session) are kept for the rejoin;
 * - a room in the list the client does not have: if `leave` was called for
 *   it, the `Leave` never reached the server: sent again; otherwise it is
 *   taken on (`joined` with request 0; a `Joined` lost with a resync);
 * - a room `leave` was called for that is not in the list: the pending
 *   leaves resolve.
 * @param {Client} client
 * @param {RoomInfo[]} rooms
 */
export function reconcileRooms(client, rooms) {
  const listed = new Map(rooms.map((r) => [r.room, r]));
  for (const rec of [...client._rooms.values()]) {
    const info = listed.get(rec.room);
    if (info) {
      rec.client = info.client;
      rec.tickHz = info.tickHz || rec.tickHz;
      rec.roomType = info.roomType || rec.roomType;
      rec.rejoin = false;
    } else if (!rec.rejoin) {
      client._rooms.delete(rec.room);
      client._emit('left', { room: rec.room, reason: 0, detail: 'not in the resumed session' });
    }
  }
  for (const info of rooms) {
    if (client._rooms.has(info.room)) continue;
    if (client._leaving.has(info.room)) {
      client._send({ kind: { leave: { room: info.room } } });
      continue;
    }
    client._rooms.set(info.room, { ...info, options: {}, left: false, rejoin: false });
    client._emit('joined', { ...info, request: 0 });
  }
  for (const room of [...client._leaving]) {
    if (listed.has(room)) continue;
    client._leaving.delete(room);
    const left = { room, reason: 0, detail: 'not in the resumed session' };
    for (const p of [...(client._pendingLeaves.get(room) ?? [])]) p.resolve(left);
    client._pendingLeaves.delete(room);
  }
}
