// A connection lost while the client lives on: what waits for a resume and
// what fails, whether to reconnect at all, and the reconnect loop itself
// (backoff honouring the server's Shutdown hint and handover URL, across the
// server URLs; what each new connection settles is rejoin.js's).

import { backoffDelay, isFatalClose, CLOSE_REPLACED } from './backoff.js';
import { AuthError, ConnectionClosedError } from './errors.js';
import { errText, safeClose, detach, abandon, FailedBeforeOpen } from './connection.js';
import { authCloseError, refusalStatus } from './auth.js';
import { finish } from './closing.js';
import { settleSession } from './rejoin.js';

/** @typedef {import('./types.js').Core} Core */
/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {import('./types.js').ReconnectedEvent} ReconnectedEvent */

/** The wait between reconnect attempts, which close() cuts short. */
export class Sleeper {
  constructor() {
    /** @private @type {ReturnType<typeof setTimeout> | null} */
    this._timer = null;
    /** @private @type {(() => void) | null} */
    this._wake = null;
  }

  /**
   * @param {number} ms
   * @returns {Promise<void>} resolves after `ms`, or at once on {@link Sleeper#wake}
   */
  sleep(ms) {
    return new Promise((resolve) => {
      const done = () => {
        if (this._timer) clearTimeout(this._timer);
        this._timer = null;
        this._wake = null;
        resolve();
      };
      this._wake = done;
      this._timer = setTimeout(done, ms);
    });
  }

  /** Ends the current wait now (the client is closing). */
  wake() {
    if (this._wake) this._wake();
  }
}

/**
 * Whether a connection lost with `code` will be followed by a resume attempt.
 * @param {Pick<Core, 'policy' | 'session' | 'link'>} core
 * @param {number} code
 * @returns {boolean}
 */
function mayResume({ policy, session, link }, code) {
  return !!policy && policy.resume && session.token !== '' && !isFatalClose(code) && !link.closeRequested;
}

/**
 * A socket that had its Welcome closed.
 * @param {Core} core
 * @param {Conn} conn
 * @param {number} code
 * @param {string} reason
 */
export function onSocketClose(core, conn, code, reason) {
  const { link, auth, session, requests, resumer, policy, emit } = core;
  if (!link.release(conn)) return; // not attached (yet), or replaced
  auth.cancelRefresh();
  const expectAuth = conn.awaitingAuth;
  const authError = authCloseError(code, reason, { expiresAt: auth.info ? auth.info.expiresAt : 0, expectAuth });
  auth.failPending(authError ?? new ConnectionClosedError(code, reason, 'authentication'));
  if (link.status === 'connecting') return; // the first connect failed authenticating: connectFirst says so
  session.cancelAck();
  session.mayAck = false; // until the next connection has resumed (or begun) a session
  const closed = new ConnectionClosedError(code, reason);
  // Joins and leaves are answered by reliable messages: when the session
  // may be resumed, their answers come with the replay, so they wait (their
  // timeout still runs). Pongs are not replayed.
  const waiting = link.status === 'open' || resumer.inFlight;
  if (waiting && mayResume(core, code)) {
    requests.failPings(closed);
  } else {
    auth.failPending(closed);
    requests.failAll(closed);
  }
  resumer.abort(new ConnectionClosedError(code, reason, 'resume'));
  if (link.status === 'closed') return;
  if (link.closeRequested) {
    finish(core, code, reason);
    return;
  }
  if (code === CLOSE_REPLACED) {
    // Another connection resumed this session: reconnecting would take it
    // back, and the other side would take it back again. Stop here.
    emit('replaced', { code, reason });
    finish(core, code, reason);
    return;
  }
  if (link.status === 'reconnecting') return; // the reconnect loop sees its attempt fail and goes on
  if (authError) emit('authError', authError);
  if (!policy || isFatalClose(code)) {
    finish(core, code, reason);
    return;
  }
  void reconnectLoop(core, code, reason);
}

/**
 * The reconnect loop, started by an abnormal close of an open connection.
 *
 * Attempt n (from 1) waits the backoff (plus the server's Shutdown hint on
 * the first), then connects to URL number (i + n − 1) mod len, where i is
 * the index of the lost connection's URL: the first attempt goes back to the
 * server that holds the session, each failed attempt moves on to the next
 * URL. A `Shutdown` notice that named a URL (a draining cluster node handed
 * the session there) puts that URL in front of the list first (i = 0), so
 * the first attempt resumes there, with the same token, before the
 * configured URLs are tried. On a cluster, a node that does not hold the session redirects the
 * resume to the one that does: the attempt follows (rejoin.js), that node
 * goes in front of the list, and a failure there moves on to the URL after
 * it. On the new connection the session is resumed when it can be;
 * otherwise (refused, or resume off) a new session begins and the rooms are
 * rejoined. With the `auth` option each attempt takes the token anew (a
 * function is called again) and, in `message` mode, authenticates first,
 * before the `Resume`. An auth failure a retry cannot fix (HTTP 401 or 403,
 * close 4001, 4003, 1008: {@link AuthError#fatal}) ends the loop: the
 * client closes with it rather than retrying.
 * @param {Core} core
 * @param {number} code
 * @param {string} reason
 */
export async function reconnectLoop(core, code, reason) {
  const { link, dialer, auth, sleeper, emit } = core;
  const policy = /** @type {import('./backoff.js').ReconnectPolicy} */ (core.policy);
  link.status = 'reconnecting';
  let last = `${code}${reason ? ` ${reason}` : ''}`;
  const hintMs = link.shutdownHintMs;
  link.shutdownHintMs = 0;
  const handover = link.shutdownUrl;
  link.shutdownUrl = '';
  if (handover) link.putFirst(handover);
  let urls = link.urls;
  let index = handover ? 0 : link.urlIndex;
  for (let retry = 0; retry < policy.maxTries; retry++) {
    if (retry > 0) {
      // A resume redirect moved the failed attempt to a node now in front
      // of the list (Link#moveTo): the next URL is the one after it.
      if (link.urls !== urls) {
        urls = link.urls;
        index = link.urlIndex;
      }
      index = (index + 1) % urls.length;
    }
    const url = urls[index];
    const delayMs = (retry === 0 ? hintMs : 0) + backoffDelay(retry, policy, policy.random);
    emit('reconnecting', { attempt: retry + 1, delayMs, code, reason, url });
    await sleeper.sleep(delayMs);
    if (link.stopped()) return;
    let token = '';
    if (auth.enabled) {
      try {
        token = await auth.token();
      } catch (e) {
        last = `${url}: ${errText(e)}`;
        if (e instanceof AuthError) emit('authError', e);
        continue;
      }
      if (link.stopped()) return;
    }
    /** @type {Conn} */
    let conn;
    try {
      conn = await dialer.open(url, token);
    } catch (e) {
      const status = e instanceof FailedBeforeOpen ? refusalStatus(e.detail) : null;
      if (status === 401) {
        const denied = new AuthError('unauthorized', 0, `HTTP 401 from ${url}: no valid credential at the upgrade`, { status });
        emit('authError', denied);
        finish(core, 4001, denied.reason);
        return;
      }
      if (status === 403) {
        // The origin is refused: it will be on every attempt.
        finish(core, 4003, `HTTP 403 from ${url}: this origin is not allowed`);
        return;
      }
      last = `${url}: ${errText(e)}`;
      continue;
    }
    if (link.stopped()) {
      safeClose(conn.ws);
      return;
    }
    if (conn.closedWith) {
      last = `${url}: closed after Welcome (${conn.closedWith.code})`;
      continue;
    }
    link.attach(conn, index);
    /** @type {Omit<ReconnectedEvent, 'protocol' | 'session' | 'url'>} */
    let result;
    // A resume redirect (on a cluster) moves the attempt to another node.
    const attempt = { conn };
    try {
      if (conn.awaitingAuth) await auth.send(token);
      result = await settleSession(core, attempt, policy, code, reason);
    } catch (e) {
      last = `${attempt.conn.url}: ${errText(e)}`;
      if (link.release(attempt.conn)) {
        detach(attempt.conn.ws);
        // Not 1000: whichever session this connection carries stays resumable.
        abandon(attempt.conn.ws);
      }
      if (link.stopped()) return;
      if (e instanceof AuthError && e.fatal) {
        emit('authError', e);
        finish(core, e.code || 4001, e.reason);
        return;
      }
      continue;
    }
    if (link.stopped()) return;
    link.status = 'open';
    emit('reconnected', { ...result, protocol: attempt.conn.token.token, session: core.session.id, url: attempt.conn.url });
    return;
  }
  finish(core, code, `gave up reconnecting after ${policy.maxTries} attempts (last: ${last})`);
}
