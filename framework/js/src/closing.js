// Closes: a socket that had its Welcome closes (pending requests fail, or
// wait for a resume; the client reconnects, or closes for good), close()
// called by the app, and the end of the client (`close` emitted once).

import { ConnectionClosedError } from './errors.js';
import { OPEN, safeClose, detach } from './connection.js';
import { isFatalClose, CLOSE_REPLACED } from './backoff.js';
import { cancelRefresh, authCloseError } from './auth.js';
import { failPending, failPings } from './requests.js';
import { reconnectLoop } from './reconnect.js';

/** @typedef {import('./client.js').Client} Client */
/** @typedef {import('./types.js').Conn} Conn */

/**
 * Closes the connection normally (1000) and stops reconnecting
 * ({@link Client#close}).
 * @param {Client} client
 * @returns {Promise<void>} resolves once closed
 */
export function closeClient(client) {
  if (client._status === 'closed') return client._closed;
  client._closeRequested = true;
  if (client._wake) client._wake();
  const conn = client._conn;
  if (conn && conn.ws.readyState <= OPEN) {
    safeClose(conn.ws);
    // The server echoes the close at once; do not wait on a dead peer.
    const guard = setTimeout(() => finish(client, 1000, ''), 2000);
    client._closed.then(() => clearTimeout(guard));
  } else {
    finish(client, 1000, '');
  }
  return client._closed;
}

/**
 * Whether a connection lost with `code` will be followed by a resume attempt.
 * @param {Client} client
 * @param {number} code
 * @returns {boolean}
 */
function mayResume(client, code) {
  return !!client._policy && client._policy.resume && client._session.token !== '' && !isFatalClose(code) && !client._closeRequested;
}

/**
 * A socket that had its Welcome closed.
 * @param {Client} client
 * @param {Conn} conn
 * @param {number} code
 * @param {string} reason
 */
export function onSocketClose(client, conn, code, reason) {
  if (conn !== client._conn) return; // not attached (yet), or replaced
  client._conn = null;
  cancelRefresh(client);
  const expectAuth = conn.awaitingAuth;
  const authError = authCloseError(code, reason, { expiresAt: client.authExpiresAt, expectAuth });
  for (const p of [...client._pendingAuths]) p.reject(authError ?? new ConnectionClosedError(code, reason, 'authentication'));
  if (client._status === 'connecting') return; // the first connect failed authenticating: connectFirst says so
  client._session.cancelAck();
  client._session.mayAck = false; // until the next connection has resumed (or begun) a session
  const closed = new ConnectionClosedError(code, reason);
  // Joins and leaves are answered by reliable messages: when the session
  // may be resumed, their answers come with the replay, so they wait (their
  // timeout still runs). Pongs are not replayed.
  const waiting = client._status === 'open' || client._resumeWait !== null;
  if (waiting && mayResume(client, code)) failPings(client, closed);
  else failPending(client, closed);
  const wait = client._resumeWait;
  client._resumeWait = null;
  if (wait) wait.reject(new ConnectionClosedError(code, reason, 'resume'));
  if (client._status === 'closed') return;
  if (client._closeRequested) {
    finish(client, code, reason);
    return;
  }
  if (code === CLOSE_REPLACED) {
    // Another connection resumed this session: reconnecting would take it
    // back, and the other side would take it back again. Stop here.
    client._emit('replaced', { code, reason });
    finish(client, code, reason);
    return;
  }
  if (client._status === 'reconnecting') return; // the reconnect loop sees its attempt fail and goes on
  if (authError) client._emit('authError', authError);
  if (!client._policy || isFatalClose(code)) {
    finish(client, code, reason);
    return;
  }
  void reconnectLoop(client, code, reason);
}

/**
 * The client is closed for good: the socket closed, pending requests and a
 * resume in flight rejected, the rooms forgotten, `close` emitted.
 * @param {Client} client
 * @param {number} code
 * @param {string} reason
 */
export function finish(client, code, reason) {
  if (client._status === 'closed') return;
  client._status = 'closed';
  if (client._wake) client._wake();
  cancelRefresh(client);
  const conn = client._conn;
  client._conn = null;
  if (conn) {
    detach(conn.ws);
    if (conn.ws.readyState <= OPEN) safeClose(conn.ws);
  }
  failPending(client, new ConnectionClosedError(code, reason));
  client._session.cancelAck();
  const wait = client._resumeWait;
  client._resumeWait = null;
  if (wait) wait.reject(new ConnectionClosedError(code, reason, 'resume'));
  client._rooms.clear();
  client._leaving.clear();
  if (client._resolveClosed) client._resolveClosed();
  client._emit('close', { code, reason });
}
