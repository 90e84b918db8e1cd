// Reconnects: after an abnormal close, retry with backoff (honouring the
// server's Shutdown hint), then rejoin the rooms (or forget them).

import { backoffDelay } from './backoff.js';
import { JoinError, JoinErrorCode } from './errors.js';
import { errText, safeClose, detach } from './connection.js';

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
  for (let retry = 0; retry < policy.maxTries; retry++) {
    const delayMs = (retry === 0 ? hintMs : 0) + backoffDelay(retry, policy, policy.random);
    client._emit('reconnecting', { attempt: retry + 1, delayMs, code, reason });
    await sleep(client, delayMs);
    if (client._stopped()) return;
    /** @type {Conn} */
    let conn;
    try {
      conn = await client._openSocket();
    } catch (e) {
      last = errText(e);
      continue;
    }
    if (client._stopped()) {
      safeClose(conn.ws);
      return;
    }
    if (conn.closedWith) {
      last = `closed after Welcome (${conn.closedWith.code})`;
      continue;
    }
    client._attach(conn);
    /** @type {Omit<ReconnectedEvent, 'protocol'>} */
    let result;
    try {
      result = policy.rejoin ? await rejoinRooms(client) : forgetRooms(client);
    } catch (e) {
      last = errText(e);
      if (client._conn === conn) {
        client._conn = null;
        detach(conn.ws);
        safeClose(conn.ws);
      }
      continue;
    }
    if (client._stopped()) return;
    client._status = 'open';
    client._emit('reconnected', { ...result, protocol: conn.token.token });
    return;
  }
  client._finish(code, `gave up reconnecting after ${policy.maxTries} attempts (last: ${last})`);
}

/**
 * `reconnect.rejoin: false`: forget the rooms (the app joins again itself).
 * @param {Client} client
 * @returns {Omit<ReconnectedEvent, 'protocol'>}
 */
function forgetRooms(client) {
  client._rooms.clear();
  return { rooms: [], failed: [] };
}

/**
 * Rejoins every room after a reconnect: the same room id first; if it is
 * gone (ROOM_NOT_FOUND), any room of the same type (joinOrCreate). Throws
 * when the connection fails meanwhile (the reconnect loop tries again).
 * @param {Client} client
 * @returns {Promise<Omit<ReconnectedEvent, 'protocol'>>}
 */
async function rejoinRooms(client) {
  const records = [...client._rooms.values()];
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
        joined = await client._joinRequest('join', { room: rec.room }, rec.options);
      } catch (e) {
        if (!(e instanceof JoinError)) throw e;
        if (e.code !== JoinErrorCode.ROOM_NOT_FOUND) {
          forget(rec);
          failed.push({ room: rec.room, roomType: rec.roomType, error: e });
          return;
        }
        try {
          joined = await client._joinRequest('joinOrCreate', { roomType: rec.roomType }, rec.options);
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
