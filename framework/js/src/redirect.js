// Following a cluster `Redirect` (docs/protocol.md §4.3): the room of a
// join lives on another node. The client moves there: a new connection to
// the node's URL (the same tokens and credential), which begins a new
// session, and `Join{room, reservation}` with the join's options. The join's
// promise, the one the app holds, settles with the answer there.
//
// The move replaces the connection, which would leave every room of this
// one: a client in rooms (or with other joins in flight) does not move, its
// join rejects with a RedirectError instead. Mirrors `join_request` /
// `follow` in framework/client/src/lib.rs.
//
// A reconnect's `Resume` may be redirected too (`request` 0, no `room`): the
// node does not hold the session and names the one that does. The reconnect
// moves there ({@link moveResume}) and resumes again, with the same token
// and lastSeq (rejoin.js; `resume_session` in lib.rs).
//
// Both moves dial through the client's Dialer, which asks the node for
// compressed states (`compress=deflate`) when the client does
// (`compression`), as on every connection.

import { RedirectError, MAX_REDIRECTS, ConnectionClosedError } from './errors.js';
import { safeClose, detach } from './connection.js';
import { checkUrl } from './options.js';

/** @typedef {import('./types.js').Core} Core */
/** @typedef {import('./types.js').Conn} Conn */

/**
 * @typedef {object} RedirectMsg  the Redirect envelope
 * @property {number} request
 * @property {string} room
 * @property {string} url
 * @property {string} reservation
 */

/**
 * A `Redirect` arrived on `conn`: follows it for the join of its
 * `request`, or rejects that join with a {@link RedirectError}.
 * @param {Pick<Core, 'link' | 'rooms' | 'requests' | 'dialer' | 'auth' | 'session' | 'emit'>} core
 * @param {Conn} conn
 * @param {RedirectMsg} m
 * @returns {Promise<void>}  never rejects: what fails, fails the join
 */
export async function followRedirect(core, conn, m) {
  const { link, rooms, requests, dialer, auth, session, emit } = core;
  const entry = requests.joinFor(m.request);
  if (!entry) return; // that join timed out here: the held seat just expires there
  const r = { request: m.request, room: String(m.room ?? ''), url: String(m.url ?? ''), reservation: String(m.reservation ?? '') };
  /** @type {import('./errors.js').RedirectErrorKind | null} */
  let refusal = null;
  if (entry.hops >= MAX_REDIRECTS) refusal = 'too-many';
  else if (rooms.records().length > 0) refusal = 'in-rooms';
  else if (link.status !== 'open' || entry.previous !== undefined || link.moving) refusal = 'reconnecting';
  else if (requests.joinsInFlight > 1) refusal = 'busy';
  if (refusal) {
    entry.reject(new RedirectError(refusal, r));
    return;
  }
  let url;
  try {
    url = checkUrl(r.url);
  } catch (e) {
    entry.reject(/** @type {Error} */ (e));
    return;
  }
  const from = conn.url;
  // Nothing else goes out while moving: a join or ping now would be lost
  // with this connection (they reject with "not connected").
  link.moving = true;
  requests.extend(entry);
  /** @type {Conn | null} */
  let fresh = null;
  let token = '';
  try {
    if (auth.enabled) token = await auth.token();
    fresh = await dialer.connect(url, token);
  } catch (e) {
    link.moving = false;
    // This connection and its session stay as they were.
    entry.reject(e instanceof Error ? e : new Error(String(e)));
    return;
  }
  link.moving = false;
  if (!requests.isPending(entry) || link.stopped() || link.conn !== conn || link.status !== 'open') {
    // The join timed out, the client closed, or this connection dropped
    // meanwhile (the reconnect logic has it): the move is off.
    detach(fresh.ws);
    safeClose(fresh.ws);
    if (requests.isPending(entry)) entry.reject(new ConnectionClosedError(1006, 'the connection changed while following a redirect', entry.kind));
    return;
  }
  // The move: the old connection is closed normally, which ends its session
  // on that node (it is in no room); the new one is the client's.
  const old = link.take();
  if (old) {
    detach(old.ws);
    safeClose(old.ws);
  }
  auth.cancelRefresh();
  session.cancelAck();
  requests.failPings(new ConnectionClosedError(1000, `moved to ${url}`, 'ping'));
  // A leave still waiting for its Left: the old session ends, and so the seat.
  for (const room of rooms.leavingRooms()) {
    rooms.doneLeaving(room);
    requests.settleLeaves(room, { room, reason: 1, detail: 'left with the connection: moved to another node' });
  }
  const previousSession = session.id;
  link.moveTo(fresh, url);
  session.begin(fresh.welcome ?? {});
  emit('redirected', { kind: 'join', from, to: url, room: r.room, session: session.id, previous: previousSession });
  if (fresh.awaitingAuth) {
    try {
      await auth.send(token);
    } catch (e) {
      // The connection closes for it; the close is handled like any other.
      if (requests.isPending(entry)) entry.reject(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (!requests.isPending(entry) || link.conn !== fresh) return;
  }
  requests.sendRedirected(entry, r.room, r.reservation);
}

/**
 * The reconnect attempt a resume redirect moves: the connection it is on
 * now (updated by {@link moveResume}).
 * @typedef {object} Attempt
 * @property {Conn} conn
 */

/**
 * A reconnect's `Resume` was redirected to `url`, the node that holds the
 * session: opens a connection there (the same tokens; with `auth`, the
 * token anew, and its `Auth` first), makes it the client's in place of
 * `attempt.conn` (closed normally: it carries only the fresh session of its
 * own Welcome, which nobody resumes), puts `url` in front of the failover
 * list ({@link import('./link.js').Link#moveTo}), emits `redirected`
 * (`kind: 'resume'`), and authenticates. The same `Resume` goes out next
 * (the caller). Throws when `url` is not a WebSocket URL, the node cannot
 * be reached, or authentication fails: the reconnect attempt fails.
 * @param {Pick<Core, 'link' | 'dialer' | 'auth' | 'session' | 'emit'>} core
 * @param {Attempt} attempt
 * @param {string} target  the Redirect's url
 * @returns {Promise<void>}
 */
export async function moveResume({ link, dialer, auth, session, emit }, attempt, target) {
  const url = checkUrl(target);
  const token = auth.enabled ? await auth.token() : '';
  const fresh = await dialer.connect(url, token);
  const old = attempt.conn;
  if (link.stopped() || !link.release(old)) {
    // The client closed, or the old connection dropped, meanwhile.
    detach(fresh.ws);
    safeClose(fresh.ws);
    throw new ConnectionClosedError(1006, 'the connection changed while following a redirect', 'resume');
  }
  detach(old.ws);
  safeClose(old.ws);
  attempt.conn = fresh;
  link.moveTo(fresh, url);
  emit('redirected', { kind: 'resume', from: old.url, to: url, room: '', session: session.id, previous: session.id });
  if (fresh.awaitingAuth) await auth.send(token);
}
