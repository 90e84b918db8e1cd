// Reconnects: after an abnormal close, retry with backoff (honouring the
// server's Shutdown hint) across the server URLs, resume the session (or
// begin a new one and rejoin the rooms, or forget them).

import { backoffDelay } from './backoff.js';
import { AuthError, JoinError, JoinErrorCode, ConnectionClosedError } from './errors.js';
import { errText, safeClose, detach, abandon, FailedBeforeOpen } from './connection.js';
import { resume } from './resume.js';
import { currentToken, refusalStatus, sendAuth } from './auth.js';
import { joinRequest, failPending } from './requests.js';

/** @typedef {import('./client.js').Client} Client */
/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {import('./types.js').JoinResult} JoinResult */
/** @typedef {import('./types.js').RoomRecord} RoomRecord */
/** @typedef {import('./types.js').ReconnectedEvent} ReconnectedEvent */

/**
 * @param {Client} client
 * @param {number} ms
 * @returns {Promise<void>}
 */
function sleep(client, ms) {
  return new Promise((resolve) => {
    const done = () => {
      if (client._sleepTimer) clearTimeout(client._sleepTimer);
      client._sleepTimer = null;
      client._wake = null;
      resolve();
    };
    client._wake = done;
    client._sleepTimer = setTimeout(done, ms);
  });
}

/**
 * The reconnect loop, started by an abnormal close of an open connection.
 *
 * Attempt n (from 1) waits the backoff (plus the server's Shutdown hint on
 * the first), then connects to URL number (i + n − 1) mod len, where i is
 * the index of the lost connection's URL: the first attempt goes back to the
 * server that holds the session, each failed attempt moves on to the next
 * URL. On the new connection the session is resumed when it can be;
 * otherwise (refused, or resume off) a new session begins and the rooms are
 * rejoined. With the `auth` option each attempt takes the token anew (a
 * function is called again) and, in `message` mode, authenticates first,
 * before the `Resume`. An auth failure a retry cannot fix (HTTP 401 or 403,
 * close 4001, 4003, 1008: {@link AuthError#fatal}) ends the loop: the
 * client closes with it rather than retrying.
 * @param {Client} client
 * @param {number} code
 * @param {string} reason
 */
export async function reconnectLoop(client, code, reason) {
  const policy = /** @type {import('./backoff.js').ReconnectPolicy} */ (client._policy);
  client._status = 'reconnecting';
  let last = `${code}${reason ? ` ${reason}` : ''}`;
  const hintMs = client._shutdownHintMs;
  client._shutdownHintMs = 0;
  const urls = client._urls;
  const first = client._urlIndex;
  for (let retry = 0; retry < policy.maxTries; retry++) {
    const index = (first + retry) % urls.length;
    const url = urls[index];
    const delayMs = (retry === 0 ? hintMs : 0) + backoffDelay(retry, policy, policy.random);
    client._emit('reconnecting', { attempt: retry + 1, delayMs, code, reason, url });
    await sleep(client, delayMs);
    if (client._stopped()) return;
    let token = '';
    if (client._auth) {
      try {
        token = await currentToken(client._auth);
      } catch (e) {
        last = `${url}: ${errText(e)}`;
        if (e instanceof AuthError) client._emit('authError', e);
        continue;
      }
      if (client._stopped()) return;
    }
    /** @type {Conn} */
    let conn;
    try {
      conn = await client._openSocket(url, token);
    } catch (e) {
      const status = e instanceof FailedBeforeOpen ? refusalStatus(e.detail) : null;
      if (status === 401) {
        const denied = new AuthError('unauthorized', 0, `HTTP 401 from ${url}: no valid credential at the upgrade`, { status });
        client._emit('authError', denied);
        client._finish(4001, denied.reason);
        return;
      }
      if (status === 403) {
        // The origin is refused: it will be on every attempt.
        client._finish(4003, `HTTP 403 from ${url}: this origin is not allowed`);
        return;
      }
      last = `${url}: ${errText(e)}`;
      continue;
    }
    if (client._stopped()) {
      safeClose(conn.ws);
      return;
    }
    if (conn.closedWith) {
      last = `${url}: closed after Welcome (${conn.closedWith.code})`;
      continue;
    }
    client._attach(conn, index);
    /** @type {Omit<ReconnectedEvent, 'protocol' | 'session' | 'url'>} */
    let result;
    try {
      if (conn.awaitingAuth) await sendAuth(client, token);
      result = await settleSession(client, conn, policy, code, reason);
    } catch (e) {
      last = `${url}: ${errText(e)}`;
      if (client._conn === conn) {
        client._conn = null;
        detach(conn.ws);
        // Not 1000: whichever session this connection carries stays resumable.
        abandon(conn.ws);
      }
      if (client._stopped()) return;
      if (e instanceof AuthError && e.fatal) {
        client._emit('authError', e);
        client._finish(e.code || 4001, e.reason);
        return;
      }
      continue;
    }
    if (client._stopped()) return;
    client._status = 'open';
    client._emit('reconnected', { ...result, protocol: conn.token.token, session: client.session, url });
    return;
  }
  client._finish(code, `gave up reconnecting after ${policy.maxTries} attempts (last: ${last})`);
}

/**
 * On a fresh connection: resume the session if possible, else begin the
 * connection's own; then rejoin what needs rejoining. Throws when the
 * connection fails meanwhile (the loop tries again).
 * @param {Client} client
 * @param {Conn} conn
 * @param {import('./backoff.js').ReconnectPolicy} policy
 * @param {number} code    of the close that started the reconnect
 * @param {string} reason
 * @returns {Promise<Omit<ReconnectedEvent, 'protocol' | 'session' | 'url'>>}
 */
async function settleSession(client, conn, policy, code, reason) {
  const previous = client.session;
  /** @type {import('./types.js').ResumeOutcome | null} */
  let outcome = null;
  if (policy.resume && client._session.token) outcome = await resume(client, conn);
  if (outcome && outcome.ok) {
    // `resumed` has been emitted and the rooms reconciled (resume.js).
    const kept = [...client._rooms.values()]
      .filter((r) => !r.rejoin)
      .map((r) => ({ room: r.room, roomType: r.roomType, tickHz: r.tickHz, client: r.client, request: 0, previous: r.room }));
    const again = await rejoinRooms(client);
    return { resumed: true, rooms: [...kept, ...again.rooms], failed: again.failed };
  }
  const why = outcome ? outcome.reason : policy.resume ? 'the server gave no resume token' : 'resume is off';
  beginNewSession(client, conn, code, reason);
  client._emit('newSession', { session: client.session, previous, reason: why });
  const r = policy.rejoin ? await rejoinRooms(client) : forgetRooms(client);
  return { resumed: false, ...r };
}

/**
 * The connection carries a new session (its own, from its Welcome): seqs
 * start over, requests that waited for a resume fail, every room is to be
 * rejoined.
 * @param {Client} client
 * @param {Conn} conn
 * @param {number} code
 * @param {string} reason
 */
function beginNewSession(client, conn, code, reason) {
  client._session.begin(conn.welcome ?? {});
  failPending(client, new ConnectionClosedError(code, `${reason ? `${reason}; ` : ''}the session was not resumed`));
  client._leaving.clear();
  for (const rec of client._rooms.values()) rec.rejoin = true;
}

/**
 * `reconnect.rejoin: false`: forget the rooms (the app joins again itself).
 * @param {Client} client
 * @returns {Pick<ReconnectedEvent, 'rooms' | 'failed'>}
 */
function forgetRooms(client) {
  client._rooms.clear();
  return { rooms: [], failed: [] };
}

/**
 * Rejoins every room whose seat was in a session that is gone: the same
 * room id first; if it is gone (ROOM_NOT_FOUND), any room of the same type
 * (joinOrCreate). Throws when the connection fails meanwhile (the reconnect
 * loop tries again).
 * @param {Client} client
 * @returns {Promise<Pick<ReconnectedEvent, 'rooms' | 'failed'>>}
 */
async function rejoinRooms(client) {
  const records = [...client._rooms.values()].filter((r) => r.rejoin);
  /** @type {ReconnectedEvent['rooms']} */
  const rooms = [];
  /** @type {ReconnectedEvent['failed']} */
  const failed = [];
  const forget = (/** @type {RoomRecord} */ rec) => {
    if (client._rooms.get(rec.room) === rec) client._rooms.delete(rec.room);
  };
  await Promise.all(
    records.map(async (rec) => {
      /** @type {JoinResult} */
      let joined;
      try {
        joined = await joinRequest(client, 'join', { room: rec.room }, rec.options);
      } catch (e) {
        if (!(e instanceof JoinError)) throw e;
        if (e.code !== JoinErrorCode.ROOM_NOT_FOUND) {
          forget(rec);
          failed.push({ room: rec.room, roomType: rec.roomType, error: e });
          return;
        }
        try {
          joined = await joinRequest(client, 'joinOrCreate', { roomType: rec.roomType }, rec.options);
        } catch (e2) {
          if (!(e2 instanceof JoinError)) throw e2;
          forget(rec);
          failed.push({ room: rec.room, roomType: rec.roomType, error: e2 });
          return;
        }
      }
      if (joined.room !== rec.room) forget(rec);
      if (rec.left) {
        // left() was called while reconnecting: give the new seat back
        client._rooms.delete(joined.room);
        client._send({ kind: { leave: { room: joined.room } } });
        return;
      }
      rooms.push({ ...joined, previous: rec.room });
    }),
  );
  return { rooms, failed };
}
