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

/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {import('./types.js').Emit} Emit */
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
 * What resuming needs from the rest of the client.
 * @typedef {object} ResumeIo
 * @property {number} timeoutMs
 * @property {import('./session.js').SessionTracker} session
 * @property {import('./rooms.js').RoomTable} rooms
 * @property {import('./requests.js').Requests} requests  (leaves settled by the reconcile)
 * @property {(msg: object) => boolean} send  sends a ClientMsg; false when not connected
 * @property {Emit} emit
 */

/** The resume in flight (at most one: one connection is attached at a time). */
export class Resumer {
  /** @param {ResumeIo} io */
  constructor(io) {
    /** @private */
    this._io = io;
    /** @private @type {ResumeWait | null} */
    this._wait = null;
  }

  /** Whether a resume is in flight. */
  get inFlight() {
    return this._wait !== null;
  }

  /**
   * Sends `Resume` on `conn` (attached, nothing sent on it yet) and resolves
   * once the session is resumed and the replay handled (`{ ok: true }`) or
   * the server refused (`{ ok: false, reason }`), or a cluster node sent
   * it on to the session's node (`{ ok: false, reason, redirect }`; see
   * {@link Resumer#onRedirect}). Rejects when the
   * connection closes ({@link Resumer#abort}) or no answer comes within
   * `timeoutMs`.
   * @param {Conn} conn
   * @returns {Promise<ResumeOutcome>}
   */
  start(conn) {
    const { timeoutMs, session, send } = this._io;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this._wait === wait) this._wait = null;
        reject(new TimeoutError(`playhouse-client: resume: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
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
      this._wait = wait;
      const sent = send({ kind: { resume: { token: session.token, lastSeq: session.lastSeq } } });
      if (!sent) {
        this._wait = null;
        wait.reject(new ConnectionClosedError(1006, 'not connected', 'resume'));
      }
    });
  }

  /**
   * `Resumed` arrived on `conn`.
   * @param {Conn} conn
   * @param {ResumedMsg} m  the Resumed envelope
   */
  onResumed(conn, m) {
    const wait = this._wait;
    if (!wait || wait.conn !== conn || wait.answer) return; // not asked for on this connection: ignore
    const { session } = this._io;
    session.resumed(m);
    const replayed = Math.max(0, Number(m.replayed) || 0);
    const resync = m.resync === true;
    /** @type {RoomInfo[]} */
    const rooms = [];
    for (const j of Array.isArray(m.rooms) ? m.rooms : []) {
      const info = roomInfo(j);
      if (info) rooms.push(info);
    }
    wait.answer = { session: session.id, replayed, resync, rooms };
    // The replayed messages are lastSeq+1 … lastSeq+replayed (none on a resync).
    wait.replayUntil = session.lastSeq + (resync ? 0 : replayed);
    this.checkDone();
  }

  /**
   * A refusal (`Error` 4002, or 1003 from a server that does not know
   * `Resume`) for the resume in flight on `conn`.
   * @param {Conn} conn
   * @param {{ code?: unknown, reason?: unknown }} m  the Error envelope
   * @returns {boolean} whether it was one (it then becomes `newSession`, not an `error`)
   */
  onRefused(conn, m) {
    const wait = this._wait;
    if (!wait || wait.conn !== conn || wait.answer) return false;
    if (m.code !== ERROR_RESUME_UNAVAILABLE && m.code !== ERROR_UNKNOWN_KIND) return false;
    this._wait = null;
    wait.resolve({ ok: false, reason: String(m.reason ?? '') || `error ${m.code}` });
    return true;
  }

  /**
   * A `Redirect` for the resume in flight on `conn`: a cluster node that
   * does not hold the session names the node that does (`request` 0, no
   * `room`; docs/protocol.md §4.3, §7.1). The resume resolves with
   * `{ ok: false, redirect: url }`: the caller resumes there, with the
   * same token and lastSeq (rejoin.js).
   * @param {Conn} conn
   * @param {{ request?: unknown, room?: unknown, url?: unknown }} m  the Redirect envelope
   * @returns {boolean} whether it was one (else it is a join's: redirect.js)
   */
  onRedirect(conn, m) {
    const wait = this._wait;
    if (!wait || wait.conn !== conn || wait.answer) return false;
    if (Number(m.request ?? 0) !== 0 || String(m.room ?? '') !== '') return false;
    this._wait = null;
    const url = String(m.url ?? '');
    wait.resolve({ ok: false, reason: `the session lives on another node (${url})`, redirect: url });
    return true;
  }

  /**
   * After `Resumed` and after each reliable message: once the whole replay
   * has been handled, reconcile the rooms, emit `resumed`, and let the
   * reconnect loop go on.
   */
  checkDone() {
    const wait = this._wait;
    if (!wait || !wait.answer || this._io.session.lastSeq < wait.replayUntil) return;
    this._wait = null;
    reconcileRooms(this._io, wait.answer.rooms);
    this._io.emit('resumed', wait.answer);
    wait.resolve({ ok: true, resumed: wait.answer });
  }

  /**
   * The connection closed: the resume in flight, if any, rejects with `e`.
   * @param {Error} e
   */
  abort(e) {
    const wait = this._wait;
    this._wait = null;
    if (wait) wait.reject(e);
  }
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
 * @param {Pick<ResumeIo, 'rooms' | 'requests' | 'send' | 'emit'>} io
 * @param {RoomInfo[]} list
 */
export function reconcileRooms({ rooms, requests, send, emit }, list) {
  const listed = new Map(list.map((r) => [r.room, r]));
  for (const rec of rooms.records()) {
    const info = listed.get(rec.room);
    if (info) {
      rec.client = info.client;
      rec.tickHz = info.tickHz || rec.tickHz;
      rec.roomType = info.roomType || rec.roomType;
      rec.rejoin = false;
    } else if (!rec.rejoin) {
      rooms.delete(rec.room);
      emit('left', { room: rec.room, reason: 0, detail: 'not in the resumed session' });
    }
  }
  for (const info of list) {
    if (rooms.has(info.room)) continue;
    if (rooms.isLeaving(info.room)) {
      send({ kind: { leave: { room: info.room } } });
      continue;
    }
    rooms.set({ ...info, options: {}, left: false, rejoin: false });
    emit('joined', { ...info, request: 0 });
  }
  for (const room of rooms.leavingRooms()) {
    if (listed.has(room)) continue;
    rooms.doneLeaving(room);
    requests.settleLeaves(room, { room, reason: 0, detail: 'not in the resumed session' });
  }
}
