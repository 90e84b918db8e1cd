// The end of a client: close() called by the app (a normal close, then
// `finish` once the server echoed it), and `finish` itself: everything
// pending fails, the rooms are forgotten, `close` is emitted once.
// (A socket lost while the client lives on is reconnect.js's.)

import { ConnectionClosedError } from './errors.js';
import { OPEN, safeClose, detach } from './connection.js';

/** @typedef {import('./types.js').Core} Core */

/**
 * Closes the connection normally (1000) and stops reconnecting
 * ({@link Client#close}).
 * @param {Core} core
 * @returns {Promise<void>} resolves once closed
 */
export function closeClient(core) {
  const { link, sleeper } = core;
  if (link.status === 'closed') return link.closed;
  link.requestClose();
  sleeper.wake();
  const conn = link.conn;
  if (conn && conn.ws.readyState <= OPEN) {
    safeClose(conn.ws);
    // The server echoes the close at once; do not wait on a dead peer.
    const guard = setTimeout(() => finish(core, 1000, ''), 2000);
    link.closed.then(() => clearTimeout(guard));
  } else {
    finish(core, 1000, '');
  }
  return link.closed;
}

/**
 * The client is closed for good: the socket closed, pending requests and a
 * resume in flight rejected, the rooms forgotten, `close` emitted.
 * @param {Pick<Core, 'link' | 'sleeper' | 'auth' | 'requests' | 'session' | 'resumer' | 'rooms' | 'emit'>} core
 * @param {number} code
 * @param {string} reason
 */
export function finish({ link, sleeper, auth, requests, session, resumer, rooms, emit }, code, reason) {
  if (link.status === 'closed') return;
  link.status = 'closed';
  sleeper.wake();
  auth.cancelRefresh();
  const conn = link.take();
  if (conn) {
    detach(conn.ws);
    if (conn.ws.readyState <= OPEN) safeClose(conn.ws);
  }
  const closed = new ConnectionClosedError(code, reason);
  auth.failPending(closed);
  requests.failAll(closed);
  session.cancelAck();
  resumer.abort(new ConnectionClosedError(code, reason, 'resume'));
  rooms.clear();
  link.markClosed();
  emit('close', { code, reason });
}
