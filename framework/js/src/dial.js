// Dialing: opening one socket the way this client speaks (its tokens,
// schema and game types; with `auth`, the token on the URL or an `Auth`
// owed first; with `compression`, `compress=deflate` on the URL), with its
// frames and close handed to the callbacks it was built with; and the first
// connect (each server URL once, in order, authenticating when due, the
// failures summed up in one error).

import { AuthError, ConnectError } from './errors.js';
import { FailedBeforeOpen, safeClose, detach, openSocket, explain } from './connection.js';
import { withToken, refusalStatus } from './auth.js';
import { withCompression } from './compress.js';
import { HELLO_CLIENT } from './version.js';

/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {import('./tokens.js').Token} Token */
/** @typedef {import('./codec.js').GameTypes} GameTypes */
/** @typedef {import('./types.js').WebSocketConstructor} WebSocketConstructor */

/**
 * What a dialer is built with.
 * @typedef {object} DialerOptions
 * @property {Token[]} tokens  offered, best first
 * @property {import('./codec.js').Schema | null} schema
 * @property {GameTypes} game
 * @property {WebSocketConstructor} WS
 * @property {number} timeoutMs
 * @property {((url: string, init?: any) => Promise<any>) | undefined} fetch  for `GET /info`
 * @property {() => 'query' | 'message' | null} authMode  where a token goes (null: no auth)
 * @property {boolean} compression  ask for compressed states (`compress=deflate` on every URL dialled)
 * @property {(conn: Conn, bytes: Uint8Array) => void} onFrame  a frame after the Welcome
 * @property {(conn: Conn, code: number, reason: string) => void} onClose  a close after the Welcome
 */

/** Opens sockets to the servers, every one the same way. */
export class Dialer {
  /** @param {DialerOptions} options */
  constructor(options) {
    /** @private */
    this._o = options;
  }

  /**
   * Opens one socket to `url` and waits for its Welcome. With `token`, the
   * connection awaits its `Auth` (nothing else goes out before it); in auth
   * mode `query` the URL carries the token as well, and the `Auth` (the same
   * token: a refresh to the server) tells the client its user and expiry.
   * With `compression`, the URL asks for compressed states: every
   * connection asks on its own (the first, each reconnect, a redirect's
   * and a resume's move to another node), and `url` stays as given (in
   * `Conn.url`, `Client#url` and messages).
   * @param {string} url
   * @param {string} [token='']
   * @returns {Promise<Conn>}
   */
  async open(url, token = '') {
    const o = this._o;
    const mode = token ? o.authMode() : null;
    let dialUrl = mode === 'query' ? withToken(url, token) : url;
    if (o.compression) dialUrl = withCompression(dialUrl);
    const conn = await openSocket({
      url,
      dialUrl: dialUrl === url ? undefined : dialUrl,
      tokens: o.tokens,
      WS: o.WS,
      timeoutMs: o.timeoutMs,
      schema: o.schema,
      game: o.game,
      onFrame: o.onFrame,
      onClose: o.onClose,
    });
    conn.awaitingAuth = mode !== null && !conn.closedWith;
    if (!conn.closedWith) sayHello(conn);
    return conn;
  }

  /**
   * {@link Dialer#open}, with a refusal explained (HTTP 401: an
   * {@link AuthError}; otherwise what `GET /info` tells).
   * @param {string} url
   * @param {string} token  the credential ('' for none)
   * @returns {Promise<Conn>}
   */
  async connect(url, token) {
    const o = this._o;
    let conn;
    try {
      conn = await this.open(url, token);
    } catch (e) {
      if (e instanceof FailedBeforeOpen) {
        const status = refusalStatus(e.detail);
        if (status === 401) throw new AuthError('unauthorized', 0, `HTTP 401 from ${url}: no valid credential at the upgrade`, { status });
        const sentToken = o.authMode() === 'query';
        throw await explain(e, { url, tokens: o.tokens, timeoutMs: o.timeoutMs, fetchFn: o.fetch, status, sentToken });
      }
      throw e;
    }
    if (conn.closedWith) {
      const { code, reason } = conn.closedWith;
      throw new ConnectError(`could not connect to ${url}: the server closed the connection (${code} ${reason})`, {
        kind: 'no-welcome',
      });
    }
    return conn;
  }
}

/**
 * Sends `Hello` right after the Welcome, on every connection (the first,
 * each reconnect, each redirect): it says this client follows redirects
 * (docs/protocol.md §4.1). It goes straight onto the socket: the server
 * takes a `Hello` before the `Auth` a connection owes, and before a
 * `Resume`, so it never stands in the way of either.
 * @param {Conn} conn
 */
function sayHello(conn) {
  try {
    conn.ws.send(conn.codec.encodeClient({ kind: { hello: { client: HELLO_CLIENT } } }));
  } catch {
    /* closing already: the close is handled where it arrives */
  }
}

/**
 * The first connect ({@link Client.connect}): each URL once, in order. The
 * first that answers with a `Welcome` (and accepts the credential) is used;
 * when none does, the error of the first is thrown, its message naming what
 * the others answered. An auth failure another server of the deployment
 * would repeat is thrown at once.
 * @param {Pick<import('./types.js').Core, 'link' | 'dialer' | 'session' | 'auth'>} core
 * @returns {Promise<void>}
 */
export async function connectFirst({ link, dialer, session, auth }) {
  /** @type {Array<{ url: string, error: Error }>} */
  const failures = [];
  for (let i = 0; i < link.urls.length; i++) {
    const url = link.urls[i];
    let conn;
    try {
      const token = auth.enabled ? await auth.token() : '';
      conn = await dialer.connect(url, token);
      link.attach(conn, i);
      session.begin(conn.welcome ?? {});
      if (conn.awaitingAuth) await auth.send(token);
    } catch (e) {
      if (conn) {
        // the socket failed during authentication
        link.release(conn);
        detach(conn.ws);
        safeClose(conn.ws);
      }
      const error = e instanceof Error ? e : new Error(String(e));
      // Another server of the same deployment would refuse the same way.
      if (e instanceof AuthError && (e.fatal || e.kind === 'token')) {
        link.status = 'closed';
        throw error;
      }
      failures.push({ url, error });
      continue;
    }
    link.status = 'open';
    return;
  }
  link.status = 'closed';
  const [first, ...others] = failures;
  if (others.length) {
    first.error.message += ` (also tried ${others.map((f) => `${f.url}: ${f.error.message}`).join('; ')})`;
  }
  throw first.error;
}
