// The Playhouse client: one WebSocket, the negotiated subprotocol, the
// envelope (docs/protocol.md), joins, inputs, pings and reconnects.
// Mirrors framework/client/src/lib.rs, with events instead of a read loop.

import { Emitter } from './emitter.js';
import { parseTokens } from './tokens.js';
import { Schema, missingTypes } from './codec.js';
import { isFatalClose, reconnectPolicy, CLOSE_REPLACED } from './backoff.js';
import { AuthError, ConnectError, ConnectionClosedError, TimeoutError } from './errors.js';
import { OPEN, FailedBeforeOpen, safeClose, detach, openSocket, explain } from './connection.js';
import { onFrame, nowMs } from './frames.js';
import { reconnectLoop } from './reconnect.js';
import { SessionTracker, ackPolicy } from './session.js';
import { joinOptions, urlList } from './options.js';
import { authPolicy, currentToken, withToken, sendAuth, cancelRefresh, authCloseError, refusalStatus } from './auth.js';

// The typedefs live in types.js; re-exported here, where they always were.
/** @typedef {import('./tokens.js').Token} Token */
/** @typedef {import('./codec.js').WireCodec} WireCodec */
/** @typedef {import('./codec.js').GameTypes} GameTypes */
/** @typedef {import('./backoff.js').ReconnectOptions} ReconnectOptions */
/** @typedef {import('./session.js').AckOptions} AckOptions */
/** @typedef {import('./types.js').WebSocketLike} WebSocketLike */
/** @typedef {import('./types.js').WebSocketConstructor} WebSocketConstructor */
/** @typedef {import('./types.js').ConnectOptions} ConnectOptions */
/** @typedef {import('./types.js').JoinResult} JoinResult */
/** @typedef {import('./types.js').StateEvent} StateEvent */
/** @typedef {import('./types.js').RoomMessage} RoomMessage */
/** @typedef {import('./types.js').LeftEvent} LeftEvent */
/** @typedef {import('./types.js').ServerError} ServerError */
/** @typedef {import('./types.js').CloseInfo} CloseInfo */
/** @typedef {import('./types.js').ReconnectingEvent} ReconnectingEvent */
/** @typedef {import('./types.js').ReconnectedEvent} ReconnectedEvent */
/** @typedef {import('./types.js').ResumedEvent} ResumedEvent */
/** @typedef {import('./types.js').NewSessionEvent} NewSessionEvent */
/** @typedef {import('./types.js').RoomInfo} RoomInfo */
/** @typedef {import('./types.js').ResumeWait} ResumeWait */
/** @typedef {import('./types.js').ClientEvents} ClientEvents */
/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {import('./types.js').RoomRecord} RoomRecord */
/** @typedef {import('./types.js').Pending} Pending */
/** @typedef {import('./types.js').AuthInfo} AuthInfo */
/** @typedef {import('./auth.js').AuthOptions} AuthOptions */

/**
 * A connection to a Playhouse server. Create one with {@link Client.connect}.
 *
 * @extends {Emitter<ClientEvents>}
 */
export class Client extends Emitter {
  /**
   * Connects to `url` (e.g. `ws://127.0.0.1:8080/ws`) offering `options.tokens`
   * and resolves once the server's `Welcome` has arrived.
   *
   * `url` may be a list of URLs (and `options.urls` adds more): they are tried
   * in order, once each, and the first that answers with a `Welcome` is used.
   * When none does, the error of the first is thrown, its message naming what
   * the others answered.
   *
   * Rejects with {@link HandshakeRefusedError} when the server answered but
   * refused the upgrade (e.g. no shared version: the message says which
   * versions each side speaks), with {@link ConnectError} when the server is
   * unreachable, chose a token this client did not offer, or sent no
   * `Welcome` in time, and with `TypeError` for bad options. The first
   * connect is not retried; `reconnect` applies once connected.
   *
   * @param {string | string[]} url
   * @param {ConnectOptions} options
   * @returns {Promise<Client>}
   */
  static async connect(url, options) {
    const client = new Client(url, options);
    await client._start();
    return client;
  }

  /**
   * Use {@link Client.connect}; the constructor only checks the options.
   * @param {string | string[]} url
   * @param {ConnectOptions} options
   */
  constructor(url, options) {
    super();
    if (!options || typeof options !== 'object') throw new TypeError('playhouse-client: options are required (at least { tokens })');
    /** @internal (used by reconnect.js) The server URLs, in failover order. */
    this._urls = urlList(url, options.urls);
    /** @internal (used by reconnect.js) Index in `_urls` of the last connection's URL. */
    this._urlIndex = 0;
    /** @private */
    this._tokens = parseTokens(options.tokens);
    /** @private @type {Schema | null} */
    this._schema = options.protos && options.protos.length ? new Schema(options.protos) : null;
    /** @private @type {GameTypes} */
    this._game = {
      package: options.game?.package ?? this._tokens[0].app,
      input: options.game?.input ?? 'Input',
      output: options.game?.output ?? 'Output',
    };
    for (const t of this._tokens) {
      const missing = missingTypes(this._schema, t, this._game);
      if (missing) throw new TypeError(missing);
    }
    const WS = options.WebSocket ?? /** @type {any} */ (globalThis).WebSocket;
    if (typeof WS !== 'function') {
      throw new TypeError(
        'playhouse-client: no WebSocket class: pass options.WebSocket (in Node 20: `import { WebSocket } from "ws"`)',
      );
    }
    /** @private @type {WebSocketConstructor} */
    this._WS = WS;
    /** @internal (used by resume.js) */
    this._timeoutMs = options.timeoutMs ?? 10000;
    /** @private */
    this._fetch = options.fetch ?? /** @type {any} */ (globalThis).fetch;
    /** @internal (used by reconnect.js) */
    this._policy = reconnectPolicy(options.reconnect);
    /** @internal (used by auth.js, reconnect.js) @type {import('./auth.js').AuthPolicy | null} */
    this._auth = authPolicy(options.auth);
    /** @internal (used by auth.js) @type {AuthInfo | null} the last `Authenticated` */
    this._authInfo = null;
    /** @internal (used by auth.js) @type {Pending[]} Auth requests waiting for `Authenticated`, oldest first */
    this._pendingAuths = [];
    /** @internal (used by auth.js) @type {ReturnType<typeof setTimeout> | null} the automatic refresh */
    this._refreshTimer = null;
    /**
     * @internal (used by frames.js, resume.js, reconnect.js) The session: id,
     * resume token, last seq, acks.
     */
    this._session = new SessionTracker(ackPolicy(options.ack), (seq) => this._send({ kind: { ack: { seq } } }));
    /** @internal (used by frames.js, resume.js) @type {ResumeWait | null} the resume in flight */
    this._resumeWait = null;
    /**
     * @internal (used by frames.js, resume.js) Rooms `leave` was called for and
     * no `Left` has arrived yet: a resume that still lists one leaves it again.
     * @type {Set<string>}
     */
    this._leaving = new Set();

    /** @internal (used by reconnect.js) @type {Conn | null} the attached socket */
    this._conn = null;
    /** @private @type {Conn | null} the last socket that got a Welcome (for protocol/session) */
    this._last = null;
    /** @internal (used by reconnect.js) @type {'connecting' | 'open' | 'reconnecting' | 'closed'} */
    this._status = 'connecting';
    /** @internal (used by frames.js, reconnect.js) The server's Shutdown hint for the next reconnect, ms. */
    this._shutdownHintMs = 0;
    /** @private */
    this._closeRequested = false;
    /** @internal (used by frames.js, reconnect.js) @type {Map<string, RoomRecord>} */
    this._rooms = new Map();
    /** @internal (used by frames.js) @type {Map<number, Pending & { options: Record<string, string> }>} */
    this._pendingJoins = new Map();
    /** @internal (used by frames.js) @type {Map<number, Pending & { started: number }>} */
    this._pendingPings = new Map();
    /** @internal (used by frames.js) @type {Map<string, Pending[]>} */
    this._pendingLeaves = new Map();
    /** @private */
    this._nextRequest = 1;
    /** @private */
    this._lastClientTime = 0;
    /** @internal (used by reconnect.js) @type {ReturnType<typeof setTimeout> | null} */
    this._sleepTimer = null;
    /** @internal (used by reconnect.js) @type {(() => void) | null} */
    this._wake = null;
    /** @private @type {(() => void) | null} */
    this._resolveClosed = null;
    /** @private @type {Promise<void>} */
    this._closed = new Promise((resolve) => (this._resolveClosed = resolve));
    /**
     * The last round-trip time measured by {@link Client#ping}, in ms, or null.
     * @type {number | null}
     */
    this.rttMs = null;
  }

  /** The negotiated token, e.g. `arena.v2.proto`. */
  get protocol() {
    return this._last ? this._last.token.token : '';
  }

  /** The negotiated schema version, e.g. `2`. */
  get version() {
    return this._last ? this._last.token.version : 0;
  }

  /** The negotiated codec: `'proto'` or `'msgpack'`. */
  get codec() {
    return this._last ? this._last.token.codec : 'proto';
  }

  /**
   * The session id (an opaque string): from `Welcome`, kept across resumes, new
   * after a reconnect that could not resume (`newSession`).
   */
  get session() {
    return this._session.id;
  }

  /**
   * The whole `Welcome` of the current connection (`session`, `resumeToken`,
   * `serverTime`, `protocol`). After a resume its `session` is the one the
   * connection opened with and gave up for the resumed one: use
   * {@link Client#session}.
   */
  get welcome() {
    return this._last ? this._last.welcome : null;
  }

  /** The latest resume token of the session (from `Welcome`, then each `Resumed`). */
  get resumeToken() {
    return this._session.token;
  }

  /** The highest reliable-message seq (`ServerMsg.seq`) received in this session. */
  get lastSeq() {
    return this._session.lastSeq;
  }

  /** The server URL of the current (or last) connection. */
  get url() {
    return this._urls[this._urlIndex];
  }

  /** Every server URL, in failover order. */
  get urls() {
    return [...this._urls];
  }

  /** The user the server authenticated (`Authenticated.user`), or null before any. */
  get user() {
    return this._authInfo ? this._authInfo.user : null;
  }

  /** When the credential expires (`Authenticated.expiresAt`, ms since the epoch; 0: never or no auth). */
  get authExpiresAt() {
    return this._authInfo ? this._authInfo.expiresAt : 0;
  }

  /**
   * Sends a fresh credential (an `Auth` message) on the open connection and
   * resolves with the server's `Authenticated`. Without `token`, the
   * `auth.token` option gives it (a function is called). A `token` given
   * here also replaces a string `auth.token`, so later reconnects use it.
   *
   * Rejects with {@link AuthError} when the server closes for it (4001: not
   * valid; 4003: another user's), {@link ConnectionClosedError} when not
   * connected, `TimeoutError` without an answer.
   * @param {string} [token]
   * @returns {Promise<AuthInfo>}
   */
  async refreshToken(token) {
    if (token !== undefined && (typeof token !== 'string' || !token)) {
      throw new TypeError('playhouse-client: refreshToken(token): the token must be a non-empty string');
    }
    let t = token;
    if (t === undefined) {
      if (!this._auth) throw new TypeError('playhouse-client: refreshToken() needs a token, or the auth option');
      t = await currentToken(this._auth);
    } else if (this._auth && typeof this._auth.token === 'string') {
      this._auth.token = t;
    }
    if (!this._isOpen()) throw new ConnectionClosedError(1006, 'not connected', 'refreshToken');
    return sendAuth(this, t);
  }

  /** `'connecting'`, `'open'`, `'reconnecting'` or `'closed'`. */
  get status() {
    return this._status;
  }

  /**
   * The rooms this client is in (during a reconnect: the rooms it will rejoin).
   * @returns {Array<{ room: string, roomType: string, tickHz: number, client: number }>}
   */
  get rooms() {
    return [...this._rooms.values()].map(({ room, roomType, tickHz, client }) => ({ room, roomType, tickHz, client }));
  }

  /**
   * This connection's client id in `room` (to find its entry in `State.acks`), or null.
   * @param {string} room
   * @returns {number | null}
   */
  clientId(room) {
    return this._rooms.get(room)?.client ?? null;
  }

  /**
   * Joins any open room of `roomType`, or creates one.
   * @param {string} roomType
   * @param {Record<string, string | number | boolean>} [options]  passed to the room (values become strings)
   * @returns {Promise<JoinResult>} rejects with {@link JoinError} when refused
   */
  joinOrCreate(roomType, options) {
    return this._joinRequest('joinOrCreate', { roomType: String(roomType) }, options);
  }

  /**
   * Creates a new room of `roomType` and joins it.
   * @param {string} roomType
   * @param {Record<string, string | number | boolean>} [options]
   * @returns {Promise<JoinResult>} rejects with {@link JoinError} when refused
   */
  create(roomType, options) {
    return this._joinRequest('create', { roomType: String(roomType) }, options);
  }

  /**
   * Joins the room with id `room`.
   * @param {string} room
   * @param {Record<string, string | number | boolean>} [options]
   * @returns {Promise<JoinResult>} rejects with {@link JoinError} when refused
   */
  join(room, options) {
    return this._joinRequest('join', { room: String(room) }, options);
  }

  /**
   * Leaves `room` and resolves with the server's `Left`. Frames of the room
   * are no longer emitted from the moment of the call.
   * @param {string} room
   * @returns {Promise<LeftEvent>}
   */
  leave(room) {
    const rec = this._rooms.get(room);
    if (!rec) return Promise.reject(new Error(`playhouse-client: not in room ${room}`));
    rec.left = true;
    this._rooms.delete(room);
    this._leaving.add(room);
    if (!this._isOpen()) {
      if (this._status === 'reconnecting') return Promise.resolve({ room, reason: 1, detail: 'left while reconnecting' });
      return Promise.reject(new ConnectionClosedError(1006, 'not connected', 'leave'));
    }
    return new Promise((resolve, reject) => {
      const entry = this._pending(resolve, reject, `leave ${room}`, () => {
        const list = this._pendingLeaves.get(room) ?? [];
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
      });
      const list = this._pendingLeaves.get(room) ?? [];
      list.push(entry);
      this._pendingLeaves.set(room, list);
      this._sendOrReject(entry, { kind: { leave: { room } } });
    });
  }

  /**
   * Sends a game input for `room`, encoded with the negotiated codec and
   * version. `seq` is your own counter per room: start at 1, add 1 per input;
   * it comes back in `State.acks`. Returns false (and sends nothing) while not
   * connected, e.g. during a reconnect: inputs are intent, send the next one.
   *
   * @param {string} room
   * @param {number} seq    0..2^32-1
   * @param {object} input  the game's Input of the negotiated version, camelCase fields
   * @returns {boolean} whether it was sent
   * @throws {TypeError} when `seq` is not a uint32 or the input does not encode
   */
  sendInput(room, seq, input) {
    if (!Number.isInteger(seq) || seq < 0 || seq > 0xffffffff) {
      throw new TypeError(`playhouse-client: input seq must be an integer 0..2^32-1, got ${seq}`);
    }
    const conn = this._conn;
    if (!conn || !this._isOpen()) return false;
    const payload = conn.codec.encodeInput(input);
    return this._send({ kind: { input: { room: String(room), seq, payload } } });
  }

  /**
   * Measures the round-trip time with an envelope `Ping` (server queueing
   * included) and stores it in {@link Client#rttMs}.
   * @returns {Promise<number>} the RTT in milliseconds
   */
  ping() {
    if (!this._isOpen()) return Promise.reject(new ConnectionClosedError(1006, 'not connected', 'ping'));
    // Epoch microseconds, like the Rust client; strictly increasing so each ping is matched exactly.
    let clientTime = Date.now() * 1000;
    if (clientTime <= this._lastClientTime) clientTime = this._lastClientTime + 1;
    this._lastClientTime = clientTime;
    return new Promise((resolve, reject) => {
      const entry = Object.assign(
        this._pending(resolve, reject, 'ping', () => this._pendingPings.delete(clientTime)),
        { started: nowMs() },
      );
      this._pendingPings.set(clientTime, entry);
      this._sendOrReject(entry, { kind: { ping: { clientTime } } });
    });
  }

  /**
   * Closes the connection normally (1000) and stops reconnecting. Pending
   * requests reject with {@link ConnectionClosedError}; `close` is emitted.
   * @returns {Promise<void>} resolves once closed
   */
  close() {
    if (this._status === 'closed') return this._closed;
    this._closeRequested = true;
    if (this._wake) this._wake();
    const conn = this._conn;
    if (conn && conn.ws.readyState <= OPEN) {
      safeClose(conn.ws);
      // The server echoes the close at once; do not wait on a dead peer.
      const guard = setTimeout(() => this._finish(1000, ''), 2000);
      this._closed.then(() => clearTimeout(guard));
    } else {
      this._finish(1000, '');
    }
    return this._closed;
  }

  // ---- internals ---------------------------------------------------------

  /**
   * The first connect: each URL once, in order.
   * @private
   */
  async _start() {
    /** @type {Array<{ url: string, error: Error }>} */
    const failures = [];
    for (let i = 0; i < this._urls.length; i++) {
      const url = this._urls[i];
      let conn;
      try {
        const token = this._auth ? await currentToken(this._auth) : '';
        conn = await this._connectOnce(url, token);
        this._attach(conn, i);
        this._session.begin(conn.welcome ?? {});
        if (conn.awaitingAuth) await sendAuth(this, token);
      } catch (e) {
        if (conn) this._dropConn(conn);
        const error = e instanceof Error ? e : new Error(String(e));
        // Another server of the same deployment would refuse the same way.
        if (e instanceof AuthError && (e.fatal || e.kind === 'token')) {
          this._status = 'closed';
          throw error;
        }
        failures.push({ url, error });
        continue;
      }
      this._status = 'open';
      return;
    }
    this._status = 'closed';
    const [first, ...others] = failures;
    if (others.length) {
      first.error.message += ` (also tried ${others.map((f) => `${f.url}: ${f.error.message}`).join('; ')})`;
    }
    throw first.error;
  }

  /**
   * A first-connect socket that failed during authentication.
   * @private
   * @param {Conn} conn
   */
  _dropConn(conn) {
    if (this._conn === conn) this._conn = null;
    detach(conn.ws);
    safeClose(conn.ws);
  }

  /**
   * One connect to `url`, with a refusal explained (HTTP 401: an {@link AuthError}).
   * @private
   * @param {string} url
   * @param {string} token  the credential ('' for none)
   * @returns {Promise<Conn>}
   */
  async _connectOnce(url, token) {
    let conn;
    try {
      conn = await this._openSocket(url, token);
    } catch (e) {
      if (e instanceof FailedBeforeOpen) {
        const status = refusalStatus(e.detail);
        if (status === 401) throw new AuthError('unauthorized', 0, `HTTP 401 from ${url}: no valid credential at the upgrade`, { status });
        const sentToken = this._auth?.mode === 'query';
        throw await explain(e, { url, tokens: this._tokens, timeoutMs: this._timeoutMs, fetchFn: this._fetch, status, sentToken });
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

  /**
   * @internal (used by reconnect.js)
   * @param {Conn} conn
   * @param {number} urlIndex  index of `conn.url` in `_urls`
   */
  _attach(conn, urlIndex) {
    this._conn = conn;
    this._last = conn;
    this._urlIndex = urlIndex;
  }

  /** @internal (used by reconnect.js) @returns {boolean} whether close() was called or the client is closed */
  _stopped() {
    return this._closeRequested || this._status === 'closed';
  }

  /** @private @returns {boolean} whether requests may go out (connected, and authenticated if due) */
  _isOpen() {
    return !!this._conn && this._conn.ws.readyState === OPEN && this._status !== 'closed' && !this._conn.awaitingAuth;
  }

  /**
   * `emit` for frames.js and reconnect.js (Emitter#emit is protected).
   * @internal
   * @template {keyof ClientEvents} K
   * @param {K} event
   * @param {ClientEvents[K]} payload
   */
  _emit(event, payload) {
    this.emit(event, payload);
  }

  /**
   * Opens one socket to `url` and waits for its Welcome. With `token`, the
   * connection awaits its `Auth` (nothing else goes out before it); in auth
   * mode `query` the URL carries the token as well, and the `Auth` (the same
   * token: a refresh to the server) tells the client its user and expiry.
   * @internal (used by reconnect.js)
   * @param {string} url
   * @param {string} [token='']
   * @returns {Promise<Conn>}
   */
  async _openSocket(url, token = '') {
    const mode = token && this._auth ? this._auth.mode : null;
    const conn = await openSocket({
      url,
      dialUrl: mode === 'query' ? withToken(url, token) : undefined,
      tokens: this._tokens,
      WS: this._WS,
      timeoutMs: this._timeoutMs,
      schema: this._schema,
      game: this._game,
      onFrame: (conn, bytes) => onFrame(this, conn, bytes),
      onClose: (c, code, reason) => this._onSocketClose(c, code, reason),
    });
    conn.awaitingAuth = mode !== null && !conn.closedWith;
    return conn;
  }

  /**
   * @internal (used by auth.js)
   * @param {(v: any) => void} resolve
   * @param {(e: Error) => void} reject
   * @param {string} what
   * @param {() => void} remove  drops the entry from its map
   * @returns {Pending}
   */
  _pending(resolve, reject, what, remove) {
    /** @type {Pending} */
    const entry = {
      resolve: (v) => {
        clearTimeout(entry.timer);
        remove();
        resolve(v);
      },
      reject: (e) => {
        clearTimeout(entry.timer);
        remove();
        reject(e);
      },
      timer: setTimeout(() => entry.reject(new TimeoutError(`playhouse-client: ${what}: no answer within ${this._timeoutMs} ms`)), this._timeoutMs),
    };
    return entry;
  }

  /**
   * @internal (used by reconnect.js)
   * @param {'join' | 'joinOrCreate' | 'create'} kind
   * @param {{ room?: string, roomType?: string }} fields
   * @param {unknown} rawOptions  checked by joinOptions (a bad value rejects)
   * @returns {Promise<JoinResult>}
   */
  _joinRequest(kind, fields, rawOptions) {
    /** @type {Record<string, string>} */
    let options;
    try {
      options = joinOptions(rawOptions);
    } catch (e) {
      return Promise.reject(e);
    }
    if (!this._isOpen()) return Promise.reject(new ConnectionClosedError(1006, 'not connected', kind));
    const request = this._nextRequest;
    this._nextRequest = (this._nextRequest % 0xffffffff) + 1;
    return new Promise((resolve, reject) => {
      const entry = Object.assign(
        this._pending(resolve, reject, kind, () => this._pendingJoins.delete(request)),
        { options },
      );
      this._pendingJoins.set(request, entry);
      this._sendOrReject(entry, { kind: { [kind]: { request, ...fields, options } } });
    });
  }

  /**
   * Sends the message of a pending request; an encoding error rejects it.
   * @private
   * @param {Pending} entry
   * @param {object} msg
   */
  _sendOrReject(entry, msg) {
    try {
      this._send(msg);
    } catch (e) {
      entry.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * Encodes and sends one ClientMsg; false when not connected.
   * @internal (used by frames.js, reconnect.js)
   * @param {object} msg
   * @returns {boolean}
   */
  _send(msg) {
    const conn = this._conn;
    if (!conn || conn.ws.readyState !== OPEN) return false;
    // Auth is the first message of a connection that owes one.
    if (conn.awaitingAuth && !(/** @type {any} */ (msg).kind?.auth)) return false;
    conn.ws.send(conn.codec.encodeClient(msg));
    return true;
  }

  /**
   * Rejects every pending request (joins, leaves, pings).
   * @internal (used by reconnect.js)
   * @param {Error} e
   */
  _failPending(e) {
    for (const p of [...this._pendingAuths]) p.reject(e);
    for (const p of [...this._pendingJoins.values()]) p.reject(e);
    this._failPings(e);
    for (const list of [...this._pendingLeaves.values()]) for (const p of [...list]) p.reject(e);
    this._pendingLeaves.clear();
  }

  /**
   * @private
   * @param {Error} e
   */
  _failPings(e) {
    for (const p of [...this._pendingPings.values()]) p.reject(e);
  }

  /**
   * Whether a connection lost with `code` will be followed by a resume attempt.
   * @private
   * @param {number} code
   * @returns {boolean}
   */
  _mayResume(code) {
    return !!this._policy && this._policy.resume && this._session.token !== '' && !isFatalClose(code) && !this._closeRequested;
  }

  /**
   * A socket that had its Welcome closed.
   * @private
   * @param {Conn} conn
   * @param {number} code
   * @param {string} reason
   */
  _onSocketClose(conn, code, reason) {
    if (conn !== this._conn) return; // not attached (yet), or replaced
    this._conn = null;
    cancelRefresh(this);
    const expectAuth = conn.awaitingAuth;
    const authError = authCloseError(code, reason, { expiresAt: this.authExpiresAt, expectAuth });
    for (const p of [...this._pendingAuths]) p.reject(authError ?? new ConnectionClosedError(code, reason, 'authentication'));
    if (this._status === 'connecting') return; // the first connect failed authenticating: _start says so
    this._session.cancelAck();
    this._session.mayAck = false; // until the next connection has resumed (or begun) a session
    const closed = new ConnectionClosedError(code, reason);
    // Joins and leaves are answered by reliable messages: when the session
    // may be resumed, their answers come with the replay, so they wait (their
    // timeout still runs). Pongs are not replayed.
    const waiting = this._status === 'open' || this._resumeWait !== null;
    if (waiting && this._mayResume(code)) this._failPings(closed);
    else this._failPending(closed);
    const wait = this._resumeWait;
    this._resumeWait = null;
    if (wait) wait.reject(new ConnectionClosedError(code, reason, 'resume'));
    if (this._status === 'closed') return;
    if (this._closeRequested) {
      this._finish(code, reason);
      return;
    }
    if (code === CLOSE_REPLACED) {
      // Another connection resumed this session: reconnecting would take it
      // back, and the other side would take it back again. Stop here.
      this.emit('replaced', { code, reason });
      this._finish(code, reason);
      return;
    }
    if (this._status === 'reconnecting') return; // the reconnect loop sees its attempt fail and goes on
    if (authError) this.emit('authError', authError);
    if (!this._policy || isFatalClose(code)) {
      this._finish(code, reason);
      return;
    }
    void reconnectLoop(this, code, reason);
  }

  /**
   * The client is closed for good.
   * @internal (used by reconnect.js)
   * @param {number} code
   * @param {string} reason
   */
  _finish(code, reason) {
    if (this._status === 'closed') return;
    this._status = 'closed';
    if (this._wake) this._wake();
    cancelRefresh(this);
    const conn = this._conn;
    this._conn = null;
    if (conn) {
      detach(conn.ws);
      if (conn.ws.readyState <= OPEN) safeClose(conn.ws);
    }
    this._failPending(new ConnectionClosedError(code, reason));
    this._session.cancelAck();
    const wait = this._resumeWait;
    this._resumeWait = null;
    if (wait) wait.reject(new ConnectionClosedError(code, reason, 'resume'));
    this._rooms.clear();
    this._leaving.clear();
    if (this._resolveClosed) this._resolveClosed();
    this.emit('close', { code, reason });
  }
}
