// The client's link to a server: which socket is attached (and which one
// last got a Welcome), the server URLs and the current one, the client's
// status, and the close the app asked for. Everything that sends goes
// through `send`, so "may this go out now" is decided in one place.

import { OPEN } from './connection.js';

/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {'connecting' | 'open' | 'reconnecting' | 'closed'} Status */

export class Link {
  /** @param {string[]} urls  the server URLs, in failover order (checked) */
  constructor(urls) {
    /** Called with each socket made the client's (for its Welcome). @type {((conn: Conn) => void) | null} */
    this.onAttach = null;
    /** The server URLs given to `connect`, in order. @type {readonly string[]} */
    this.configured = Object.freeze([...urls]);
    /**
     * The server URLs, in failover order: `configured`, with the node a
     * redirect moved the client to, or a draining node handed its session
     * to, in front (see {@link Link#putFirst}).
     * @type {readonly string[]}
     */
    this.urls = this.configured;
    /** @type {Status} */
    this.status = 'connecting';
    /** The server's Shutdown hint for the next reconnect, ms (0: none). */
    this.shutdownHintMs = 0;
    /**
     * The node a draining cluster node handed the session to
     * (`Shutdown.url`): the next reconnect tries it first ('': none).
     */
    this.shutdownUrl = '';
    /** @private */
    this._urlIndex = 0;
    /** @private @type {Conn | null} */
    this._conn = null;
    /** @private @type {Conn | null} */
    this._last = null;
    /** @private */
    this._closeRequested = false;
    /** A redirect is moving the client to another node: no requests go out meanwhile. */
    this.moving = false;
    /** @private @type {() => void} */
    this._resolveClosed = () => {};
    /** @private @type {Promise<void>} */
    this._closed = new Promise((resolve) => (this._resolveClosed = resolve));
  }

  /** Index in `urls` of the current (or last) connection's URL. */
  get urlIndex() {
    return this._urlIndex;
  }

  /** The URL of the current (or last) connection. */
  get url() {
    return this.urls[this._urlIndex];
  }

  /** The attached socket, or null. */
  get conn() {
    return this._conn;
  }

  /** The last socket that got a Welcome (for the protocol and the Welcome), or null. */
  get last() {
    return this._last;
  }

  /**
   * Makes `conn` the socket the client uses.
   * @param {Conn} conn
   * @param {number} urlIndex  index of `conn.url` in `urls`
   */
  attach(conn, urlIndex) {
    this._conn = conn;
    this._last = conn;
    this._urlIndex = urlIndex;
    if (this.onAttach) this.onAttach(conn);
  }

  /**
   * Makes `url`, the node that holds the session (and its rooms), the first
   * of the failover list: `url`, then the configured URLs (without `url`).
   * So a reconnect goes there first, and only then to the configured URLs;
   * a later call replaces the node in front (the list never grows past one
   * URL more than configured). The current (or last) connection's URL
   * keeps its meaning while it is still in the list.
   * @param {string} url
   */
  putFirst(url) {
    const current = this.url;
    this.urls = Object.freeze([url, ...this.configured.filter((u) => u !== url)]);
    this._urlIndex = Math.max(0, this.urls.indexOf(current));
  }

  /**
   * Makes `conn`, a connection to `url` that a redirect moved the client
   * to, the socket the client uses, and `url` the first of the failover
   * list ({@link Link#putFirst}).
   * @param {Conn} conn
   * @param {string} url
   */
  moveTo(conn, url) {
    this.putFirst(url);
    this.attach(conn, 0);
  }

  /**
   * Detaches `conn` if it is the attached socket.
   * @param {Conn} conn
   * @returns {boolean} whether it was
   */
  release(conn) {
    if (this._conn !== conn) return false;
    this._conn = null;
    return true;
  }

  /**
   * Detaches whatever socket is attached.
   * @returns {Conn | null} it
   */
  take() {
    const conn = this._conn;
    this._conn = null;
    return conn;
  }

  /**
   * Whether requests may go out: connected, and authenticated if due.
   * @returns {boolean}
   */
  isOpen() {
    const conn = this._conn;
    return !!conn && conn.ws.readyState === OPEN && this.status !== 'closed' && !conn.awaitingAuth && !this.moving;
  }

  /**
   * Encodes and sends one ClientMsg on the attached socket.
   * @param {object} msg
   * @returns {boolean} false when not connected (nothing sent)
   */
  send(msg) {
    const conn = this._conn;
    if (!conn || conn.ws.readyState !== OPEN) return false;
    // Auth is the first message of a connection that owes one.
    if (conn.awaitingAuth && !(/** @type {any} */ (msg).kind?.auth)) return false;
    conn.ws.send(conn.codec.encodeClient(msg));
    return true;
  }

  /** The app called `close()`: no more reconnects. */
  requestClose() {
    this._closeRequested = true;
  }

  /** Whether the app called `close()`. */
  get closeRequested() {
    return this._closeRequested;
  }

  /** @returns {boolean} whether close() was called or the client is closed */
  stopped() {
    return this._closeRequested || this.status === 'closed';
  }

  /** Resolves once the client is closed for good. */
  get closed() {
    return this._closed;
  }

  /** The client is closed for good: `closed` resolves. */
  markClosed() {
    this._resolveClosed();
  }
}
