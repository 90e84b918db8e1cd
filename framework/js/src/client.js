// The Playhouse client: one WebSocket, the negotiated subprotocol, the
// envelope (docs/protocol.md), joins, inputs, pings and reconnects.
// Mirrors framework/client/src/lib.rs, with events instead of a read loop.

import { Emitter } from './emitter.js';
import { parseTokens, explainRefusal, infoUrlFor } from './tokens.js';
import { Schema, createCodec, missingTypes } from './codec.js';
import { backoffDelay, isFatalClose, reconnectPolicy } from './backoff.js';
import {
  ConnectError,
  HandshakeRefusedError,
  JoinError,
  JoinErrorCode,
  ConnectionClosedError,
  TimeoutError,
} from './errors.js';

/** @typedef {import('./tokens.js').Token} Token */
/** @typedef {import('./codec.js').WireCodec} WireCodec */
/** @typedef {import('./codec.js').GameTypes} GameTypes */
/** @typedef {import('./backoff.js').ReconnectOptions} ReconnectOptions */

/**
 * The part of the WebSocket API the client uses; both the browser's
 * `WebSocket` and the `ws` package's have it.
 * @typedef {object} WebSocketLike
 * @property {string} protocol
 * @property {number} readyState
 * @property {string} binaryType
 * @property {((ev: any) => void) | null} onopen
 * @property {((ev: any) => void) | null} onmessage
 * @property {((ev: any) => void) | null} onerror
 * @property {((ev: any) => void) | null} onclose
 * @property {(data: Uint8Array) => void} send
 * @property {(code?: number, reason?: string) => void} close
 */

/**
 * A WebSocket class: `globalThis.WebSocket` in browsers, `ws`'s `WebSocket` in Node.
 * @typedef {new (url: string, protocols?: string | string[]) => WebSocketLike} WebSocketConstructor
 */

/**
 * Options of {@link Client.connect}.
 * @typedef {object} ConnectOptions
 * @property {string[]} tokens  subprotocol tokens `<app>.v<N>.<codec>`, best first
 *   (the server applies its own rule: highest shared version, then its codec preference)
 * @property {string[]} [protos]  `.proto` sources as strings: the envelope and the
 *   game's schemas. Required for `proto` tokens; with `msgpack` tokens they are
 *   used (when present) to normalise and check messages
 * @property {GameTypes} [game]  game type names; default
 *   `{ package: <app of the first token>, input: 'Input', output: 'Output' }`
 * @property {ReconnectOptions | boolean} [reconnect]  reconnect on abnormal closes;
 *   omitted or `false`: never. `true`: the defaults (250 ms base, 5 s cap, 8 tries)
 * @property {WebSocketConstructor} [WebSocket]  default `globalThis.WebSocket`
 *   (in Node 20 pass `WebSocket` from the `ws` package)
 * @property {number} [timeoutMs=10000]  limit for the handshake, joins, leaves and pings
 * @property {(url: string, init?: any) => Promise<any>} [fetch]  for `GET /info`
 *   after a refused handshake; default `globalThis.fetch`
 */

/**
 * A successful join (the `Joined` envelope).
 * @typedef {object} JoinResult
 * @property {string} room      the room id
 * @property {string} roomType
 * @property {number} tickHz    ticks per second
 * @property {number} client    this connection's id in the room (find it in `State.acks`)
 * @property {number} request   the request id the join used
 */

/**
 * A state snapshot (`state` event). Latest wins: a slow client skips ticks.
 * @typedef {object} StateEvent
 * @property {string} room
 * @property {number} tick
 * @property {Array<{ client: number, seq: number }>} acks  highest input seq processed,
 *   per client of this connection's (version, codec) group
 * @property {any} payload  the decoded game Output, e.g. `{ kind: { state: {...} } }`
 */

/**
 * A reliable room message (`message` event).
 * @typedef {object} RoomMessage
 * @property {string} room
 * @property {number} seq   per-room counter; gaps are normal
 * @property {any} payload  the decoded game Output, e.g. `{ kind: { event: {...} } }`
 */

/**
 * `left` event: this connection is no longer in `room`.
 * @typedef {object} LeftEvent
 * @property {string} room
 * @property {number} reason  LeaveReason: 1 REQUESTED, 3 DISPOSED
 * @property {string} detail
 */

/**
 * `error` event: a non-fatal error. Codes from the server (docs/protocol.md
 * §4.2): 4004 not in room, 1013 room busy (input dropped), 4002 resume
 * unavailable, 1003 unknown kind. Code 1007 is local: a server message
 * did not decode (it was skipped).
 * @typedef {object} ServerError
 * @property {number} code
 * @property {string} reason
 */

/**
 * `close` event: the client is closed for good (no more reconnects).
 * @typedef {object} CloseInfo
 * @property {number} code    the WebSocket close code (1006: dropped without a close frame)
 * @property {string} reason
 */

/**
 * `reconnecting` event: a reconnect attempt is scheduled.
 * @typedef {object} ReconnectingEvent
 * @property {number} attempt  1 for the first attempt after a drop
 * @property {number} delayMs  the wait before this attempt
 * @property {number} code     the close code that started the reconnect
 * @property {string} reason
 */

/**
 * `reconnected` event: connected again and rooms rejoined.
 * @typedef {object} ReconnectedEvent
 * @property {Array<JoinResult & { previous: string }>} rooms  the rooms rejoined;
 *   `previous` is the room id before the drop (`room` differs when the old room
 *   was gone and a room of the same type was joined or created)
 * @property {Array<{ room: string, roomType: string, error: JoinError }>} failed
 *   rooms that could not be rejoined
 * @property {string} protocol  the token negotiated this time
 */

/**
 * Events of {@link Client} and their payloads.
 * @typedef {object} ClientEvents
 * @property {StateEvent} state
 * @property {RoomMessage} message
 * @property {JoinResult} joined
 * @property {LeftEvent} left
 * @property {ServerError} error
 * @property {{ clientTime: number, serverTime: number }} pong
 * @property {CloseInfo} close
 * @property {ReconnectingEvent} reconnecting
 * @property {ReconnectedEvent} reconnected
 * @property {{ reconnectAfterMs: number }} shutdown  the server is draining; the first reconnect after its close (1001) waits this long plus jitter
 */

/**
 * @typedef {object} Conn  one open socket after its Welcome
 * @property {WebSocketLike} ws
 * @property {Token} token
 * @property {WireCodec} codec
 * @property {any} welcome
 * @property {{ code: number, reason: string } | null} closedWith
 */

/**
 * @typedef {object} RoomRecord
 * @property {string} room
 * @property {string} roomType
 * @property {number} tickHz
 * @property {number} client
 * @property {Record<string, string>} options  the options it was joined with (for rejoins)
 * @property {boolean} left
 */

/**
 * @typedef {object} Pending
 * @property {(v: any) => void} resolve
 * @property {(e: Error) => void} reject
 * @property {ReturnType<typeof setTimeout>} timer
 */

const OPEN = 1;

/** The socket failed before the upgrade completed (refused or unreachable). */
class FailedBeforeOpen extends Error {
  /**
   * @param {number} code
   * @param {string} reason
   * @param {string} detail
   */
  constructor(code, reason, detail) {
    super(`WebSocket failed before opening (${code}${detail ? `: ${detail}` : ''})`);
    this.code = code;
    this.reason = reason;
    this.detail = detail;
  }
}

/** @param {unknown} e @returns {string} */
function errText(e) {
  if (e instanceof Error) {
    const cause = /** @type {any} */ (e).cause;
    return cause instanceof Error && cause.message ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
}

/** @param {WebSocketLike} ws */
function safeClose(ws) {
  try {
    ws.close(1000);
  } catch {
    /* already closing */
  }
}

function noop() {}

/**
 * Stops listening to a socket. Handlers become no-ops rather than null: the
 * `ws` package throws on an 'error' event nobody listens to.
 * @param {WebSocketLike} ws
 */
function detach(ws) {
  ws.onopen = ws.onmessage = ws.onerror = ws.onclose = noop;
}

/** @param {unknown} data @returns {Uint8Array | null} */
function frameBytes(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null; // a text frame: the protocol has none from the server
}

/** @returns {number} */
function nowMs() {
  return globalThis.performance ? globalThis.performance.now() : Date.now();
}

/**
 * Checks join options: a flat object whose values become strings
 * (`map<string, string>` on the wire).
 * @param {unknown} options
 * @returns {Record<string, string>}
 */
function joinOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError('playhouse-client: join options must be an object of strings, e.g. { name: "ann" }');
  }
  /** @type {Record<string, string>} */
  const out = {};
  for (const [k, v] of Object.entries(options)) if (v !== undefined && v !== null) out[k] = String(v);
  return out;
}

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
   * Rejects with {@link HandshakeRefusedError} when the server answered but
   * refused the upgrade (e.g. no shared version: the message says which
   * versions each side speaks), with {@link ConnectError} when the server is
   * unreachable, chose a token this client did not offer, or sent no
   * `Welcome` in time, and with `TypeError` for bad options. The first
   * connect is not retried; `reconnect` applies once connected.
   *
   * @param {string} url
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
   * @param {string} url
   * @param {ConnectOptions} options
   */
  constructor(url, options) {
    super();
    if (!options || typeof options !== 'object') throw new TypeError('playhouse-client: options are required (at least { tokens })');
    let parsedUrl;
    try {
      parsedUrl = new URL(url);
    } catch {
      throw new TypeError(`playhouse-client: invalid URL ${JSON.stringify(url)}`);
    }
    if (parsedUrl.protocol !== 'ws:' && parsedUrl.protocol !== 'wss:') {
      throw new TypeError(`playhouse-client: the URL must start with ws:// or wss://, got ${JSON.stringify(url)}`);
    }
    /** @private */
    this._url = url;
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
    /** @private */
    this._timeoutMs = options.timeoutMs ?? 10000;
    /** @private */
    this._fetch = options.fetch ?? /** @type {any} */ (globalThis).fetch;
    /** @private */
    this._policy = reconnectPolicy(options.reconnect);

    /** @private @type {Conn | null} the attached socket */
    this._conn = null;
    /** @private @type {Conn | null} the last socket that got a Welcome (for protocol/session) */
    this._last = null;
    /** @private @type {'connecting' | 'open' | 'reconnecting' | 'closed'} */
    this._status = 'connecting';
    /** @private The server's Shutdown hint for the next reconnect, ms. */
    this._shutdownHintMs = 0;
    /** @private */
    this._closeRequested = false;
    /** @private @type {Map<string, RoomRecord>} */
    this._rooms = new Map();
    /** @private @type {Map<number, Pending & { options: Record<string, string> }>} */
    this._pendingJoins = new Map();
    /** @private @type {Map<number, Pending & { started: number }>} */
    this._pendingPings = new Map();
    /** @private @type {Map<string, Pending[]>} */
    this._pendingLeaves = new Map();
    /** @private */
    this._nextRequest = 1;
    /** @private */
    this._lastClientTime = 0;
    /** @private @type {ReturnType<typeof setTimeout> | null} */
    this._sleepTimer = null;
    /** @private @type {(() => void) | null} */
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

  /** `Welcome.session` of the current connection (16 hex chars). */
  get session() {
    return this._last ? String(this._last.welcome.session ?? '') : '';
  }

  /** The whole `Welcome` of the current connection (`session`, `resumeToken`, `serverTime`, `protocol`). */
  get welcome() {
    return this._last ? this._last.welcome : null;
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

  /** @private */
  async _start() {
    let conn;
    try {
      conn = await this._openSocket();
    } catch (e) {
      this._status = 'closed';
      if (e instanceof FailedBeforeOpen) throw await this._explain(e);
      throw e;
    }
    if (conn.closedWith) {
      this._status = 'closed';
      const { code, reason } = conn.closedWith;
      throw new ConnectError(`could not connect to ${this._url}: the server closed the connection (${code} ${reason})`, {
        kind: 'no-welcome',
      });
    }
    this._attach(conn);
    this._status = 'open';
  }

  /** @private @param {Conn} conn */
  _attach(conn) {
    this._conn = conn;
    this._last = conn;
  }

  /** @private @returns {boolean} whether close() was called or the client is closed */
  _stopped() {
    return this._closeRequested || this._status === 'closed';
  }

  /** @private @returns {boolean} */
  _isOpen() {
    return !!this._conn && this._conn.ws.readyState === OPEN && this._status !== 'closed';
  }

  /**
   * Opens one socket and waits for its Welcome.
   * @private
   * @returns {Promise<Conn>}
   */
  _openSocket() {
    return new Promise((resolve, reject) => {
      const offered = this._tokens.map((t) => t.token);
      /** @type {WebSocketLike} */
      let ws;
      try {
        ws = new this._WS(this._url, offered);
      } catch (e) {
        reject(new ConnectError(`could not connect to ${this._url}: ${errText(e)}`, { kind: 'unreachable', cause: e }));
        return;
      }
      ws.binaryType = 'arraybuffer';
      let settled = false;
      let opened = false;
      let lastError = '';
      /** @type {Conn | null} */
      let conn = null;
      const timer = setTimeout(
        () => fail(new ConnectError(`could not connect to ${this._url}: no answer within ${this._timeoutMs} ms`, { kind: 'timeout' })),
        this._timeoutMs,
      );
      /** @param {Error} e */
      const fail = (e) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        detach(ws);
        safeClose(ws);
        reject(e);
      };
      ws.onopen = () => {
        opened = true;
        const chosen = ws.protocol;
        const token = this._tokens.find((t) => t.token === chosen);
        if (!token) {
          fail(
            new ConnectError(
              `could not connect to ${this._url}: the server chose subprotocol ${JSON.stringify(chosen)}, ` +
                `which this client did not offer (offered: ${offered.join(', ')})`,
              { kind: 'bad-protocol' },
            ),
          );
          return;
        }
        try {
          conn = { ws, token, codec: createCodec(token, this._schema, this._game), welcome: null, closedWith: null };
        } catch (e) {
          fail(e instanceof Error ? e : new Error(String(e)));
        }
      };
      ws.onerror = (ev) => {
        lastError = ev && (ev.message || (ev.error && ev.error.message)) ? String(ev.message || ev.error.message) : lastError;
      };
      ws.onmessage = (ev) => {
        const bytes = frameBytes(ev.data);
        if (!conn || !bytes) return;
        if (settled) {
          this._onFrame(conn, bytes);
          return;
        }
        let msg;
        try {
          msg = conn.codec.decodeServer(bytes);
        } catch (e) {
          fail(new ConnectError(`could not connect to ${this._url}: the first message did not decode: ${errText(e)}`, { kind: 'no-welcome' }));
          return;
        }
        const welcome = msg && msg.kind && msg.kind.welcome;
        if (!welcome) {
          fail(new ConnectError(`could not connect to ${this._url}: expected Welcome first, got ${JSON.stringify(Object.keys(msg?.kind ?? {}))}`, { kind: 'no-welcome' }));
          return;
        }
        conn.welcome = welcome;
        settled = true;
        clearTimeout(timer);
        resolve(conn);
      };
      ws.onclose = (ev) => {
        const code = typeof ev?.code === 'number' ? ev.code : 1006;
        const reason = typeof ev?.reason === 'string' ? ev.reason : '';
        if (settled) {
          if (conn) {
            conn.closedWith = { code, reason };
            this._onSocketClose(conn, code, reason);
          }
          return;
        }
        if (!opened) {
          fail(new FailedBeforeOpen(code, reason, lastError));
        } else {
          fail(new ConnectError(`could not connect to ${this._url}: the server closed the connection before Welcome (${code} ${reason})`, { kind: 'no-welcome' }));
        }
      };
    });
  }

  /**
   * Turns a failed upgrade into an error a person can act on, using `GET /info`.
   * @private
   * @param {FailedBeforeOpen} failure
   * @returns {Promise<Error>}
   */
  async _explain(failure) {
    const offered = this._tokens.map((t) => t.token);
    const infoUrl = infoUrlFor(this._url);
    /** @type {any} */
    let info = null;
    let infoError = '';
    try {
      if (typeof this._fetch !== 'function') throw new Error('fetch is not available');
      const signal = typeof AbortSignal !== 'undefined' && 'timeout' in AbortSignal ? AbortSignal.timeout(this._timeoutMs) : undefined;
      // called on globalThis: a browser's fetch throws "Illegal invocation" on any other `this`
      const res = await this._fetch.call(globalThis, infoUrl, { signal, headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const body = await res.json();
      if (!body || typeof body.app !== 'string' || !Array.isArray(body.protocols)) throw new Error('not a Playhouse /info answer');
      info = body;
    } catch (e) {
      infoError = errText(e);
      if (failure.detail) infoError += `; WebSocket: ${failure.detail}`;
    }
    const { kind, message } = explainRefusal({ url: this._url, offered, info, infoUrl, infoError });
    if (kind === 'unreachable' || !info) return new ConnectError(message, { kind: 'unreachable', cause: failure });
    return new HandshakeRefusedError(message, {
      kind,
      offered,
      serverProtocols: info.protocols.map(String),
      serverVersions: Array.isArray(info.versions) ? info.versions.map(Number) : [],
      serverApp: info.app,
    });
  }

  /**
   * @private
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
   * @private
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
   * @private
   * @param {object} msg
   * @returns {boolean}
   */
  _send(msg) {
    const conn = this._conn;
    if (!conn || conn.ws.readyState !== OPEN) return false;
    conn.ws.send(conn.codec.encodeClient(msg));
    return true;
  }

  /**
   * @private
   * @param {Conn} conn
   * @param {Uint8Array} bytes
   * @returns {any} the decoded game payload, or undefined when it does not decode
   */
  _payload(conn, bytes) {
    try {
      return conn.codec.decodeOutput(bytes);
    } catch (e) {
      this.emit('error', { code: 1007, reason: `playhouse-client: a game payload did not decode (${conn.token.token}): ${errText(e)}` });
      return undefined;
    }
  }

  /**
   * One server frame.
   * @private
   * @param {Conn} conn
   * @param {Uint8Array} bytes
   */
  _onFrame(conn, bytes) {
    let msg;
    try {
      msg = conn.codec.decodeServer(bytes);
    } catch (e) {
      this.emit('error', { code: 1007, reason: `playhouse-client: a server message did not decode (${conn.token.token}): ${errText(e)}` });
      return;
    }
    const kind = msg && msg.kind;
    if (!kind || typeof kind !== 'object') return; // unknown kind (newer server): skip
    const name = Object.keys(kind)[0];
    const m = kind[name];
    if (!m || typeof m !== 'object') return;
    switch (name) {
      case 'state': {
        if (!this._rooms.has(m.room)) return;
        const payload = this._payload(conn, m.payload);
        if (payload === undefined) return;
        this.emit('state', { room: m.room, tick: m.tick, acks: m.acks ?? [], payload });
        return;
      }
      case 'message': {
        if (!this._rooms.has(m.room)) return;
        const payload = this._payload(conn, m.payload);
        if (payload === undefined) return;
        this.emit('message', { room: m.room, seq: m.seq, payload });
        return;
      }
      case 'joined':
        this._onJoined(m);
        return;
      case 'joinError': {
        const p = this._pendingJoins.get(m.request);
        if (p) p.reject(new JoinError({ request: m.request, code: m.code, reason: m.reason ?? '' }));
        return;
      }
      case 'pong': {
        const p = this._pendingPings.get(m.clientTime);
        if (p) {
          const rtt = nowMs() - p.started;
          this.rttMs = rtt;
          p.resolve(rtt);
        }
        this.emit('pong', { clientTime: m.clientTime, serverTime: m.serverTime });
        return;
      }
      case 'left': {
        const rec = this._rooms.get(m.room);
        if (rec) this._rooms.delete(m.room);
        for (const p of [...(this._pendingLeaves.get(m.room) ?? [])]) p.resolve({ room: m.room, reason: m.reason, detail: m.detail ?? '' });
        this._pendingLeaves.delete(m.room);
        this.emit('left', { room: m.room, reason: m.reason, detail: m.detail ?? '' });
        return;
      }
      case 'error':
        this.emit('error', { code: m.code, reason: m.reason ?? '' });
        return;
      case 'shutdown':
        // The server is draining: the first reconnect waits at least this
        // long (plus the usual jitter, so clients do not return in a herd).
        this._shutdownHintMs = Math.max(0, Number(m.reconnectAfterMs ?? 0));
        this.emit('shutdown', { reconnectAfterMs: this._shutdownHintMs });
        return;
      default:
        return; // welcome again, or a case this client does not know
    }
  }

  /**
   * @private
   * @param {any} m  the Joined envelope
   */
  _onJoined(m) {
    const p = this._pendingJoins.get(m.request);
    /** @type {JoinResult} */
    const j = { room: m.room, roomType: m.roomType, tickHz: m.tickHz, client: m.client, request: m.request };
    if (!p) {
      // The join timed out here but succeeded there: give the seat back.
      this._send({ kind: { leave: { room: m.room } } });
      return;
    }
    this._rooms.set(m.room, { room: j.room, roomType: j.roomType, tickHz: j.tickHz, client: j.client, options: p.options, left: false });
    p.resolve(j);
    this.emit('joined', j);
  }

  /**
   * @private
   * @param {Error} e
   */
  _failPending(e) {
    for (const p of [...this._pendingJoins.values()]) p.reject(e);
    for (const p of [...this._pendingPings.values()]) p.reject(e);
    for (const list of [...this._pendingLeaves.values()]) for (const p of [...list]) p.reject(e);
    this._pendingLeaves.clear();
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
    this._failPending(new ConnectionClosedError(code, reason));
    if (this._status === 'closed') return;
    if (this._closeRequested) {
      this._finish(code, reason);
      return;
    }
    if (this._status === 'reconnecting') return; // the reconnect loop sees its rejoin fail and goes on
    if (!this._policy || isFatalClose(code)) {
      this._finish(code, reason);
      return;
    }
    void this._reconnectLoop(code, reason);
  }

  /**
   * @private
   * @param {number} ms
   * @returns {Promise<void>}
   */
  _sleep(ms) {
    return new Promise((resolve) => {
      const done = () => {
        if (this._sleepTimer) clearTimeout(this._sleepTimer);
        this._sleepTimer = null;
        this._wake = null;
        resolve();
      };
      this._wake = done;
      this._sleepTimer = setTimeout(done, ms);
    });
  }

  /**
   * @private
   * @param {number} code
   * @param {string} reason
   */
  async _reconnectLoop(code, reason) {
    const policy = /** @type {import('./backoff.js').ReconnectPolicy} */ (this._policy);
    this._status = 'reconnecting';
    let last = `${code}${reason ? ` ${reason}` : ''}`;
    const hintMs = this._shutdownHintMs;
    this._shutdownHintMs = 0;
    for (let retry = 0; retry < policy.maxTries; retry++) {
      const delayMs = (retry === 0 ? hintMs : 0) + backoffDelay(retry, policy, policy.random);
      this.emit('reconnecting', { attempt: retry + 1, delayMs, code, reason });
      await this._sleep(delayMs);
      if (this._stopped()) return;
      /** @type {Conn} */
      let conn;
      try {
        conn = await this._openSocket();
      } catch (e) {
        last = errText(e);
        continue;
      }
      if (this._stopped()) {
        safeClose(conn.ws);
        return;
      }
      if (conn.closedWith) {
        last = `closed after Welcome (${conn.closedWith.code})`;
        continue;
      }
      this._attach(conn);
      /** @type {Omit<ReconnectedEvent, 'protocol'>} */
      let result;
      try {
        result = policy.rejoin ? await this._rejoinRooms() : this._forgetRooms();
      } catch (e) {
        last = errText(e);
        if (this._conn === conn) {
          this._conn = null;
          detach(conn.ws);
          safeClose(conn.ws);
        }
        continue;
      }
      if (this._stopped()) return;
      this._status = 'open';
      this.emit('reconnected', { ...result, protocol: conn.token.token });
      return;
    }
    this._finish(code, `gave up reconnecting after ${policy.maxTries} attempts (last: ${last})`);
  }

  /**
   * `reconnect.rejoin: false`: forget the rooms (the app joins again itself).
   * @private
   * @returns {Omit<ReconnectedEvent, 'protocol'>}
   */
  _forgetRooms() {
    this._rooms.clear();
    return { rooms: [], failed: [] };
  }

  /**
   * Rejoins every room after a reconnect: the same room id first; if it is
   * gone (ROOM_NOT_FOUND), any room of the same type (joinOrCreate). Throws
   * when the connection fails meanwhile (the reconnect loop tries again).
   * @private
   * @returns {Promise<Omit<ReconnectedEvent, 'protocol'>>}
   */
  async _rejoinRooms() {
    const records = [...this._rooms.values()];
    /** @type {ReconnectedEvent['rooms']} */
    const rooms = [];
    /** @type {ReconnectedEvent['failed']} */
    const failed = [];
    const forget = (/** @type {RoomRecord} */ rec) => {
      if (this._rooms.get(rec.room) === rec) this._rooms.delete(rec.room);
    };
    await Promise.all(
      records.map(async (rec) => {
        /** @type {JoinResult} */
        let joined;
        try {
          joined = await this._joinRequest('join', { room: rec.room }, rec.options);
        } catch (e) {
          if (!(e instanceof JoinError)) throw e;
          if (e.code !== JoinErrorCode.ROOM_NOT_FOUND) {
            forget(rec);
            failed.push({ room: rec.room, roomType: rec.roomType, error: e });
            return;
          }
          try {
            joined = await this._joinRequest('joinOrCreate', { roomType: rec.roomType }, rec.options);
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
          this._rooms.delete(joined.room);
          this._send({ kind: { leave: { room: joined.room } } });
          return;
        }
        rooms.push({ ...joined, previous: rec.room });
      }),
    );
    return { rooms, failed };
  }

  /**
   * The client is closed for good.
   * @private
   * @param {number} code
   * @param {string} reason
   */
  _finish(code, reason) {
    if (this._status === 'closed') return;
    this._status = 'closed';
    if (this._wake) this._wake();
    const conn = this._conn;
    this._conn = null;
    if (conn) {
      detach(conn.ws);
      if (conn.ws.readyState <= OPEN) safeClose(conn.ws);
    }
    this._failPending(new ConnectionClosedError(code, reason));
    this._rooms.clear();
    if (this._resolveClosed) this._resolveClosed();
    this.emit('close', { code, reason });
  }
}
