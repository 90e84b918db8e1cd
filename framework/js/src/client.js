// The Playhouse client: one WebSocket, the negotiated subprotocol, the
// envelope (docs/protocol.md), joins, inputs, pings and reconnects.
// Mirrors framework/client/src/lib.rs, with events instead of a read loop.
//
// This module holds the client's state and its public API; the work is done
// by functions that take the client: dial.js (connecting), requests.js
// (joins, leaves, pings), frames.js (incoming frames), closing.js (closes),
// reconnect.js and resume.js (reconnects), auth.js (credentials).

import { Emitter } from './emitter.js';
import { parseTokens } from './tokens.js';
import { Schema, missingTypes } from './codec.js';
import { reconnectPolicy } from './backoff.js';
import { OPEN } from './connection.js';
import { SessionTracker, ackPolicy } from './session.js';
import { urlList } from './options.js';
import { authPolicy, refreshCredential } from './auth.js';
import { joinRequest, leaveRequest, pingRequest } from './requests.js';
import { connectFirst, openClientSocket } from './dial.js';
import { closeClient, finish } from './closing.js';

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
    await connectFirst(client);
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
    /** @internal (used by dial.js, reconnect.js) The server URLs, in failover order. */
    this._urls = urlList(url, options.urls);
    /** @internal (used by reconnect.js) Index in `_urls` of the last connection's URL. */
    this._urlIndex = 0;
    /** @internal (used by dial.js) */
    this._tokens = parseTokens(options.tokens);
    /** @internal (used by dial.js) @type {Schema | null} */
    this._schema = options.protos && options.protos.length ? new Schema(options.protos) : null;
    /** @internal (used by dial.js) @type {GameTypes} */
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
    /** @internal (used by dial.js) @type {WebSocketConstructor} */
    this._WS = WS;
    /** @internal (used by dial.js, requests.js, resume.js) */
    this._timeoutMs = options.timeoutMs ?? 10000;
    /** @internal (used by dial.js) */
    this._fetch = options.fetch ?? /** @type {any} */ (globalThis).fetch;
    /** @internal (used by closing.js, reconnect.js) */
    this._policy = reconnectPolicy(options.reconnect);
    /** @internal (used by auth.js, dial.js, reconnect.js) @type {import('./auth.js').AuthPolicy | null} */
    this._auth = authPolicy(options.auth);
    /** @internal (used by auth.js) @type {AuthInfo | null} the last `Authenticated` */
    this._authInfo = null;
    /** @internal (used by auth.js, requests.js, closing.js) @type {Pending[]} Auth requests waiting for `Authenticated`, oldest first */
    this._pendingAuths = [];
    /** @internal (used by auth.js) @type {ReturnType<typeof setTimeout> | null} the automatic refresh */
    this._refreshTimer = null;
    /**
     * @internal (used by frames.js, resume.js, dial.js, closing.js, reconnect.js) The session: id,
     * resume token, last seq, acks.
     */
    this._session = new SessionTracker(ackPolicy(options.ack), (seq) => this._send({ kind: { ack: { seq } } }));
    /** @internal (used by frames.js, resume.js, closing.js) @type {ResumeWait | null} the resume in flight */
    this._resumeWait = null;
    /**
     * @internal (used by frames.js, resume.js, requests.js) Rooms `leave` was called for and
     * no `Left` has arrived yet: a resume that still lists one leaves it again.
     * @type {Set<string>}
     */
    this._leaving = new Set();

    /** @internal (used by dial.js, closing.js, reconnect.js) @type {Conn | null} the attached socket */
    this._conn = null;
    /** @private @type {Conn | null} the last socket that got a Welcome (for protocol/session) */
    this._last = null;
    /** @internal (used by dial.js, closing.js, reconnect.js) @type {'connecting' | 'open' | 'reconnecting' | 'closed'} */
    this._status = 'connecting';
    /** @internal (used by frames.js, reconnect.js) The server's Shutdown hint for the next reconnect, ms. */
    this._shutdownHintMs = 0;
    /** @internal (used by closing.js) */
    this._closeRequested = false;
    /** @internal (used by frames.js, requests.js, closing.js, reconnect.js) @type {Map<string, RoomRecord>} */
    this._rooms = new Map();
    /** @internal (used by frames.js, requests.js) @type {Map<number, Pending & { options: Record<string, string> }>} */
    this._pendingJoins = new Map();
    /** @internal (used by frames.js, requests.js) @type {Map<number, Pending & { started: number }>} */
    this._pendingPings = new Map();
    /** @internal (used by frames.js, requests.js) @type {Map<string, Pending[]>} */
    this._pendingLeaves = new Map();
    /** @internal (used by requests.js) */
    this._nextRequest = 1;
    /** @internal (used by requests.js) */
    this._lastClientTime = 0;
    /** @internal (used by reconnect.js) @type {ReturnType<typeof setTimeout> | null} */
    this._sleepTimer = null;
    /** @internal (used by reconnect.js, closing.js) @type {(() => void) | null} */
    this._wake = null;
    /** @internal (used by closing.js) @type {(() => void) | null} */
    this._resolveClosed = null;
    /** @internal (used by closing.js) @type {Promise<void>} */
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
  refreshToken(token) {
    return refreshCredential(this, token);
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
    return joinRequest(this, 'joinOrCreate', { roomType: String(roomType) }, options);
  }

  /**
   * Creates a new room of `roomType` and joins it.
   * @param {string} roomType
   * @param {Record<string, string | number | boolean>} [options]
   * @returns {Promise<JoinResult>} rejects with {@link JoinError} when refused
   */
  create(roomType, options) {
    return joinRequest(this, 'create', { roomType: String(roomType) }, options);
  }

  /**
   * Joins the room with id `room`.
   * @param {string} room
   * @param {Record<string, string | number | boolean>} [options]
   * @returns {Promise<JoinResult>} rejects with {@link JoinError} when refused
   */
  join(room, options) {
    return joinRequest(this, 'join', { room: String(room) }, options);
  }

  /**
   * Leaves `room` and resolves with the server's `Left`. Frames of the room
   * are no longer emitted from the moment of the call.
   * @param {string} room
   * @returns {Promise<LeftEvent>}
   */
  leave(room) {
    return leaveRequest(this, room);
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
    return pingRequest(this);
  }

  /**
   * Closes the connection normally (1000) and stops reconnecting. Pending
   * requests reject with {@link ConnectionClosedError}; `close` is emitted.
   * @returns {Promise<void>} resolves once closed
   */
  close() {
    return closeClient(this);
  }

  // ---- internals: state the helper modules share --------------------------

  /**
   * @internal (used by dial.js, reconnect.js)
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

  /**
   * @internal (used by requests.js, auth.js)
   * @returns {boolean} whether requests may go out (connected, and authenticated if due)
   */
  _isOpen() {
    return !!this._conn && this._conn.ws.readyState === OPEN && this._status !== 'closed' && !this._conn.awaitingAuth;
  }

  /**
   * `emit` for the helper modules (Emitter#emit is protected).
   * @internal
   * @template {keyof ClientEvents} K
   * @param {K} event
   * @param {ClientEvents[K]} payload
   */
  _emit(event, payload) {
    this.emit(event, payload);
  }

  /**
   * Encodes and sends one ClientMsg; false when not connected.
   * @internal (used by requests.js, frames.js, resume.js, reconnect.js, auth.js)
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
   * dial.js's openClientSocket, for reconnect.js (which dial.js imports,
   * through closing.js: a direct import would be a cycle).
   * @internal (used by reconnect.js)
   * @param {string} url
   * @param {string} [token='']
   * @returns {Promise<Conn>}
   */
  _openSocket(url, token = '') {
    return openClientSocket(this, url, token);
  }

  /**
   * closing.js's finish, for reconnect.js (which closing.js imports: a
   * direct import would be a cycle). The client is closed for good.
   * @internal (used by reconnect.js)
   * @param {number} code
   * @param {string} reason
   */
  _finish(code, reason) {
    finish(this, code, reason);
  }
}
