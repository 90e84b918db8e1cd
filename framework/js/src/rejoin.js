// What a reconnect settles on its new connection: the session resumed
// (resume.js), or a new one begun, and then the rooms whose seats were in
// a session that is gone joined again (or forgotten, with rejoin off).

import { JoinError, JoinErrorCode, ConnectionClosedError, RedirectError, MAX_REDIRECTS } from './errors.js';
import { moveResume } from './redirect.js';

/** @typedef {import('./types.js').Core} Core */
/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {import('./types.js').JoinResult} JoinResult */
/** @typedef {import('./types.js').RoomRecord} RoomRecord */
/** @typedef {import('./types.js').ReconnectedEvent} ReconnectedEvent */

/**
 * On a fresh connection: resume the session if possible, else begin the
 * connection's own; then rejoin what needs rejoining. Throws when the
 * connection fails meanwhile (the loop tries again).
 * @param {Core} core
 * @param {import('./redirect.js').Attempt} attempt  the connection (a resume redirect moves it)
 * @param {import('./backoff.js').ReconnectPolicy} policy
 * @param {number} code    of the close that started the reconnect
 * @param {string} reason
 * @returns {Promise<Omit<ReconnectedEvent, 'protocol' | 'session' | 'url'>>}
 */
export async function settleSession(core, attempt, policy, code, reason) {
  const { session, rooms, emit } = core;
  const previous = session.id;
  /** @type {import('./types.js').ResumeOutcome | null} */
  let outcome = null;
  if (policy.resume && session.token) outcome = await resume(core, attempt);
  const conn = attempt.conn;
  if (outcome && outcome.ok) {
    // `resumed` has been emitted and the rooms reconciled (resume.js).
    const kept = rooms
      .records()
      .filter((r) => !r.rejoin)
      .map((r) => ({ room: r.room, roomType: r.roomType, tickHz: r.tickHz, client: r.client, request: 0, previous: r.room }));
    const again = await rejoinRooms(core);
    return { resumed: true, rooms: [...kept, ...again.rooms], failed: again.failed };
  }
  const why = outcome ? outcome.reason : policy.resume ? 'the server gave no resume token' : 'resume is off';
  beginNewSession(core, conn, code, reason);
  emit('newSession', { session: session.id, previous, reason: why });
  const r = policy.rejoin ? await rejoinRooms(core) : forgetRooms(core);
  return { resumed: false, ...r };
}

/**
 * Sends `Resume` on `attempt.conn`; on a cluster, a node that does not hold
 * the session redirects it to the node that does: the attempt moves there
 * and the same `Resume` (token, lastSeq) goes out again, at most
 * {@link MAX_REDIRECTS} times (like `resume_session` in the Rust client).
 * One redirect more, or a move that fails, throws: the attempt fails like
 * any other (the reconnect loop goes on with its backoff and next URL).
 * @param {Core} core
 * @param {import('./redirect.js').Attempt} attempt
 * @returns {Promise<import('./types.js').ResumeOutcome>}
 */
async function resume(core, attempt) {
  for (let hops = 0; ; hops++) {
    const outcome = await core.resumer.start(attempt.conn);
    if (outcome.ok || outcome.redirect === undefined) return outcome;
    if (hops >= MAX_REDIRECTS) {
      throw new Error(`playhouse-client: resume redirected more than ${MAX_REDIRECTS} times (last to ${outcome.redirect})`);
    }
    await moveResume(core, attempt, outcome.redirect);
  }
}

/**
 * The connection carries a new session (its own, from its Welcome): seqs
 * start over, requests that waited for a resume fail, every room is to be
 * rejoined.
 * @param {Pick<Core, 'session' | 'auth' | 'requests' | 'rooms'>} core
 * @param {Conn} conn
 * @param {number} code
 * @param {string} reason
 */
function beginNewSession({ session, auth, requests, rooms }, conn, code, reason) {
  session.begin(conn.welcome ?? {});
  const gone = new ConnectionClosedError(code, `${reason ? `${reason}; ` : ''}the session was not resumed`);
  auth.failPending(gone);
  requests.failAll(gone);
  rooms.clearLeaving();
  rooms.markAllRejoin();
}

/**
 * `reconnect.rejoin: false`: forget the rooms (the app joins again itself).
 * @param {Pick<Core, 'rooms'>} core
 * @returns {Pick<ReconnectedEvent, 'rooms' | 'failed'>}
 */
function forgetRooms({ rooms }) {
  rooms.clear();
  return { rooms: [], failed: [] };
}

/**
 * Rejoins every room whose seat was in a session that is gone: the same
 * room id first; if it is gone (ROOM_NOT_FOUND), any room of the same type
 * (joinOrCreate). Throws when the connection fails meanwhile (the reconnect
 * loop tries again).
 * @param {Pick<Core, 'rooms' | 'requests' | 'link'>} core
 * @returns {Promise<Pick<ReconnectedEvent, 'rooms' | 'failed'>>}
 */
async function rejoinRooms({ rooms, requests, link }) {
  const records = rooms.records().filter((r) => r.rejoin);
  /** @type {ReconnectedEvent['rooms']} */
  const rejoined = [];
  /** @type {ReconnectedEvent['failed']} */
  const failed = [];
  const forget = (/** @type {RoomRecord} */ rec) => {
    if (rooms.get(rec.room) === rec) rooms.delete(rec.room);
  };
  await Promise.all(
    records.map(async (rec) => {
      /** @type {JoinResult} */
      let joined;
      try {
        joined = await requests.join('join', { room: rec.room }, rec.options, rec.room);
      } catch (e) {
        if (e instanceof RedirectError) {
          // The room lives on another node (a cluster): a rejoin does not move
          // the connection, whose other rooms it would leave.
          forget(rec);
          failed.push({ room: rec.room, roomType: rec.roomType, error: e });
          return;
        }
        if (!(e instanceof JoinError)) throw e;
        if (e.code !== JoinErrorCode.ROOM_NOT_FOUND) {
          forget(rec);
          failed.push({ room: rec.room, roomType: rec.roomType, error: e });
          return;
        }
        try {
          joined = await requests.join('joinOrCreate', { roomType: rec.roomType }, rec.options, rec.room);
        } catch (e2) {
          if (!(e2 instanceof JoinError) && !(e2 instanceof RedirectError)) throw e2;
          forget(rec);
          failed.push({ room: rec.room, roomType: rec.roomType, error: e2 });
          return;
        }
      }
      if (joined.room !== rec.room) forget(rec);
      if (rec.left) {
        // left() was called while reconnecting: give the new seat back
        rooms.delete(joined.room);
        link.send({ kind: { leave: { room: joined.room } } });
        return;
      }
      rejoined.push({ ...joined, previous: rec.room });
    }),
  );
  return { rooms: rejoined, failed };
}
