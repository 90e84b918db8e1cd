// Client-side authentication (docs/security.md): where the token goes (the
// `?token=` query parameter, or an `Auth` message sent first after `Welcome`
// on every connection, before `Resume`), the Auth/Authenticated exchange,
// refreshes (by hand, or by itself before `Authenticated.expiresAt` when the
// token comes from a function), and what an auth close or refusal means.

import { AuthError, ConnectionClosedError } from './errors.js';
import { toSeq } from './session.js';
import { pending } from './requests.js';

/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {import('./types.js').AuthInfo} AuthInfo */
/** @typedef {import('./types.js').Emit} Emit */
/** @typedef {import('./types.js').Pending} Pending */

/**
 * The `auth` option of {@link import('./client.js').Client.connect}.
 * @typedef {object} AuthOptions
 * @property {string | (() => string | Promise<string>)} token  the credential (a JWT),
 *   or a function that gets a fresh one; a function is called again for every
 *   connection (reconnects included) and for automatic refreshes
 * @property {'query' | 'message'} [mode='message']  `'message'`: an `Auth` message,
 *   the first after `Welcome` (keeps the token out of URLs and access logs; the
 *   server must run first-message auth, or accept a refresh by message);
 *   `'query'`: `?token=` on the URL, for servers that check at the upgrade
 *   (browsers cannot set an `Authorization` header on a WebSocket)
 * @property {boolean} [autoRefresh=true]  when `token` is a function: call it and send
 *   a fresh `Auth` before the credential expires (`Authenticated.expiresAt`)
 * @property {number} [refreshBeforeMs=30000]  how long before the expiry to refresh
 *   (at most half of the credential's remaining life)
 */

/**
 * @typedef {object} AuthPolicy
 * @property {string | (() => string | Promise<string>)} token
 * @property {'query' | 'message'} mode
 * @property {boolean} autoRefresh
 * @property {number} refreshBeforeMs
 */

/** Close code: the credential was refused or is missing (first `Auth`). */
export const CLOSE_UNAUTHORIZED = 4001;
/** Close code: no `Auth` within the server's deadline (first-message auth). */
export const CLOSE_AUTH_TIMEOUT = 4002;
/** Close code: forbidden (a refresh for another user; too many sessions of the user). */
export const CLOSE_FORBIDDEN = 4003;
/** Close code: policy; with auth, the credential expired without a refresh. */
export const CLOSE_POLICY = 1008;

/**
 * Normalises the `auth` option (null: no client-side auth).
 * @param {AuthOptions | undefined | null} opt
 * @returns {AuthPolicy | null}
 * @throws {TypeError} on a bad option
 */
export function authPolicy(opt) {
  if (opt === undefined || opt === null) return null;
  if (typeof opt !== 'object') throw new TypeError('playhouse-client: auth must be an object, e.g. { token: "<jwt>" }');
  const { token, mode = 'message', autoRefresh = true, refreshBeforeMs = 30_000 } = opt;
  if (typeof token !== 'function' && (typeof token !== 'string' || !token)) {
    throw new TypeError('playhouse-client: auth.token must be a non-empty string or a function returning one');
  }
  if (mode !== 'query' && mode !== 'message') {
    throw new TypeError(`playhouse-client: auth.mode must be 'query' or 'message', got ${JSON.stringify(mode)}`);
  }
  if (typeof refreshBeforeMs !== 'number' || !Number.isFinite(refreshBeforeMs) || refreshBeforeMs < 0) {
    throw new TypeError(`playhouse-client: auth.refreshBeforeMs must be a finite number >= 0, got ${String(refreshBeforeMs)}`);
  }
  return { token, mode, autoRefresh: autoRefresh !== false, refreshBeforeMs };
}

/**
 * The token to use now: the string, or what the function returns.
 * @param {AuthPolicy} policy
 * @returns {Promise<string>}
 * @throws {AuthError} kind `token` when the function fails or returns no string
 */
export async function currentToken(policy) {
  let t;
  try {
    t = typeof policy.token === 'function' ? await policy.token() : policy.token;
  } catch (e) {
    throw new AuthError('token', 0, `the auth.token function failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (typeof t !== 'string' || !t) throw new AuthError('token', 0, 'the auth.token function returned no token (a non-empty string is needed)');
  return t;
}

/**
 * `url` with `?token=` set (other parameters kept).
 * @param {string} url
 * @param {string} token
 * @returns {string}
 */
export function withToken(url, token) {
  const u = new URL(url);
  u.searchParams.set('token', token);
  return u.toString();
}

/**
 * The HTTP status of a refused upgrade, when the WebSocket implementation
 * tells it (Node's `ws`: "Unexpected server response: 401"); browsers do not.
 * @param {string} detail  the socket's error text
 * @returns {number | null}
 */
export function refusalStatus(detail) {
  const m = /Unexpected server response: (\d{3})/.exec(detail || '');
  return m ? Number(m[1]) : null;
}

/**
 * What an auth-related close means, or null when it is not one.
 *
 * - 4001: the credential was refused (`unauthorized`);
 * - 4002 while an `Auth` was expected (`auth-timeout`; 4002 is not used
 *   otherwise, but the reason or the mode says it was the auth deadline);
 * - 4003 (`forbidden`): a refresh for another user, or too many sessions;
 * - 1008 when the credential expired (`expired`): the server says so in the
 *   reason, or its known expiry has passed. Other 1008s (idle timeout, rate
 *   limit) are not auth errors.
 * @param {number} code
 * @param {string} reason
 * @param {{ expiresAt?: number, expectAuth?: boolean, now?: number }} [ctx]
 *   `expiresAt`: the credential's expiry (ms since the epoch, 0: none);
 *   `expectAuth`: an `Auth` was due on this connection
 * @returns {AuthError | null}
 */
export function authCloseError(code, reason, ctx = {}) {
  const why = reason ? `: ${reason}` : '';
  switch (code) {
    case CLOSE_UNAUTHORIZED:
      return new AuthError('unauthorized', code, `the server refused the credential (4001${why})`);
    case CLOSE_FORBIDDEN:
      return new AuthError('forbidden', code, `the server refused this user (4003${why})`);
    case CLOSE_AUTH_TIMEOUT:
      if (!ctx.expectAuth && !/auth/i.test(reason)) return null;
      return new AuthError('auth-timeout', code, `no Auth reached the server within its deadline (4002${why})`);
    case CLOSE_POLICY: {
      const now = ctx.now ?? Date.now();
      const lapsed = !!ctx.expiresAt && now >= ctx.expiresAt - 1000;
      if (!/credential|expired|token/i.test(reason) && !lapsed) return null;
      return new AuthError('expired', code, `the credential expired without a refresh (1008${why})`);
    }
    default:
      return null;
  }
}

/**
 * When to refresh a credential that expires at `expiresAt`: `refreshBeforeMs`
 * ahead, but no earlier than halfway through the time left.
 * @param {number} expiresAt  ms since the epoch (0: never: no refresh)
 * @param {number} now
 * @param {number} refreshBeforeMs
 * @returns {number | null} the delay in ms, or null for none
 */
export function refreshDelay(expiresAt, now, refreshBeforeMs) {
  if (!expiresAt) return null;
  const left = expiresAt - now;
  if (left < 1000) return null; // too late to be of use: the close will say so
  return Math.floor(Math.max(left - refreshBeforeMs, left / 2));
}

/**
 * What the authenticator needs from the client.
 * @typedef {object} AuthIo
 * @property {number} timeoutMs
 * @property {(msg: object) => boolean} send  sends a ClientMsg; false when not connected
 * @property {() => boolean} isOpen  whether requests may go out now
 * @property {() => string} status  the client's status (`'open'`, …)
 * @property {Emit} emit
 */

/**
 * The client's credential: the `auth` option, the last `Authenticated`, the
 * `Auth` requests waiting for theirs, and the automatic refresh.
 */
export class Authenticator {
  /**
   * @param {AuthPolicy | null} policy  null: no client-side auth (every method is then a no-op
   *   or refuses)
   * @param {AuthIo} io
   */
  constructor(policy, io) {
    /** @private */
    this._policy = policy;
    /** @private */
    this._io = io;
    /** @private @type {AuthInfo | null} the last `Authenticated` */
    this._info = null;
    /** @private @type {Pending[]} Auth requests waiting for `Authenticated`, oldest first */
    this._pending = [];
    /** @private @type {ReturnType<typeof setTimeout> | null} the automatic refresh */
    this._refreshTimer = null;
  }

  /** Whether the client authenticates (the `auth` option was given). */
  get enabled() {
    return this._policy !== null;
  }

  /** Where the token goes: `'query'` or `'message'`, or null without auth. */
  get mode() {
    return this._policy ? this._policy.mode : null;
  }

  /** The last `Authenticated`, or null before any. */
  get info() {
    return this._info;
  }

  /**
   * The token to use now (a function is called).
   * @returns {Promise<string>}
   * @throws {AuthError} kind `token` when the function fails; TypeError without auth
   */
  token() {
    if (!this._policy) return Promise.reject(new TypeError('playhouse-client: no auth option'));
    return currentToken(this._policy);
  }

  /**
   * Sends `Auth{token}` on the attached connection and resolves with the
   * server's `Authenticated` (answers come in order: the oldest waiting
   * request takes the next one). Rejects with {@link AuthError} when the
   * server closes for it, {@link ConnectionClosedError} on another close, and
   * `TimeoutError` after `timeoutMs`.
   * @param {string} token
   * @returns {Promise<AuthInfo>}
   */
  send(token) {
    return new Promise((resolve, reject) => {
      const entry = pending(this._io.timeoutMs, resolve, reject, 'authentication', () => {
        const i = this._pending.indexOf(entry);
        if (i >= 0) this._pending.splice(i, 1);
      });
      this._pending.push(entry);
      if (!this._io.send({ kind: { auth: { token } } })) {
        entry.reject(new ConnectionClosedError(1006, 'not connected', 'authentication'));
      }
    });
  }

  /**
   * {@link Client#refreshToken}: sends a fresh credential on the open
   * connection (`token`, or the `auth.token` option's) and resolves with the
   * server's `Authenticated`. A `token` given here also replaces a string
   * `auth.token`, so later reconnects use it.
   * @param {string} [token]
   * @returns {Promise<AuthInfo>}
   */
  async refresh(token) {
    if (token !== undefined && (typeof token !== 'string' || !token)) {
      throw new TypeError('playhouse-client: refreshToken(token): the token must be a non-empty string');
    }
    const policy = this._policy;
    let t = token;
    if (t === undefined) {
      if (!policy) throw new TypeError('playhouse-client: refreshToken() needs a token, or the auth option');
      t = await currentToken(policy);
    } else if (policy && typeof policy.token === 'string') {
      policy.token = t;
    }
    if (!this._io.isOpen()) throw new ConnectionClosedError(1006, 'not connected', 'refreshToken');
    return this.send(t);
  }

  /**
   * `Authenticated` arrived on `conn`: the connection may carry everything
   * now; the waiting request resolves, `authenticated` is emitted and the
   * next automatic refresh is planned.
   * @param {Conn} conn
   * @param {{ user?: unknown, expiresAt?: unknown }} m
   */
  onAuthenticated(conn, m) {
    /** @type {AuthInfo} */
    const info = { user: String(m.user ?? ''), expiresAt: toSeq(m.expiresAt) };
    conn.awaitingAuth = false;
    this._info = info;
    const waiting = this._pending[0];
    if (waiting) waiting.resolve(info);
    this._io.emit('authenticated', info);
    this._scheduleRefresh();
  }

  /**
   * Plans the automatic refresh of the current credential (a token function
   * and `autoRefresh`), replacing any planned one. A refresh that fails is
   * reported as `authError` and tried again halfway to the expiry.
   * @private
   */
  _scheduleRefresh() {
    this.cancelRefresh();
    const policy = this._policy;
    const info = this._info;
    if (!policy || typeof policy.token !== 'function' || !policy.autoRefresh || !info) return;
    const delay = refreshDelay(info.expiresAt, Date.now(), policy.refreshBeforeMs);
    if (delay === null) return;
    this._refreshTimer = setTimeout(() => {
      this._refreshTimer = null;
      this.refresh().catch((/** @type {unknown} */ e) => {
        // An auth close is reported by the close itself; here only what
        // leaves the connection as it was: the token function failed, or no
        // answer came in time. Both are tried again while there is time.
        if (this._io.status() !== 'open') return;
        if (e instanceof AuthError && e.kind === 'token') this._io.emit('authError', e);
        if (!(e instanceof AuthError) || e.kind === 'token') this._scheduleRefresh();
      });
    }, delay);
  }

  /** Drops the planned automatic refresh (the connection is gone). */
  cancelRefresh() {
    if (this._refreshTimer) clearTimeout(this._refreshTimer);
    this._refreshTimer = null;
  }

  /**
   * Rejects every `Auth` waiting for its answer.
   * @param {Error} e
   */
  failPending(e) {
    for (const p of [...this._pending]) p.reject(e);
  }
}
