// The Playhouse client: one WebSocket, the negotiated subprotocol, the
// envelope (docs/protocol.md), joins, inputs, pings and reconnects.
// Mirrors framework/client/src/lib.rs, with events instead of a read loop.
//
// This module holds the public API. It builds the client's parts, each a
// class owning its state (types.js `Core`), and hands each module the parts
// it uses: link.js (the attached socket and status), dial.js (connecting),
// frames.js (incoming frames), requests.js (joins, leaves, pings),
// rooms.js (the rooms), resume.js, reconnect.js and rejoin.js (reconnects),
// closing.js (the end), auth.js (credentials), session.js (reliable seqs),
// redirect.js (following a cluster node's Redirect to the room's node),
// room.js (the room handles the joins return), channels.js (pub/sub),
// baselines.js (the states held per room, which state deltas rebuild from).

import { Emitter } from './emitter.js';
import { parseTokens } from './tokens.js';
import { Schema, missingTypes } from './codec.js';
import { reconnectPolicy } from './backoff.js';
import { SessionTracker, ackPolicy } from './session.js';
import { urlList } from './options.js';
import { authPolicy, Authenticator } from './auth.js';
import { Requests } from './requests.js';
import { RoomTable } from './rooms.js';
import { Link } from './link.js';
import { Dialer, connectFirst } from './dial.js';
import { onFrame } from './frames.js';
import { Resumer } from './resume.js';
import { onSocketClose, Sleeper } from './reconnect.js';
import { closeClient } from './closing.js';
import { RoomHandles } from './room.js';
import { DeprecationNotices } from './deprecation.js';
import { ConnectionClosedError } from './errors.js';
import { Channels } from './channels.js';
import { Baselines } from './baselines.js';
import { welcomeCompression } from './compress.js';
/** @typedef {import('./errors.js').RedirectError} RedirectError */

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
/** @typedef {import('./types.js').ClientEvents} ClientEvents */
/** @typedef {import('./types.js').AuthInfo} AuthInfo */
/** @typedef {import('./types.js').RoomState} RoomState */
/** @typedef {import('./types.js').DroppedInput} DroppedInput */
/** @typedef {import('./types.js').RejoinedEvent} RejoinedEvent */
/** @typedef {import('./types.js').RedirectedEvent} RedirectedEvent */
/** @typedef {import('./inputs.js').SentInput} SentInput */
/** @typedef {import('./auth.js').AuthOptions} AuthOptions */
/** @typedef {import('./room.js').Room} Room */
/** @typedef {import('./types.js').Subscribed} Subscribed */
/** @typedef {import('./types.js').ChannelPosition} ChannelPosition */
/** @typedef {import('./channels.js').SubscribeOptions} SubscribeOptions */
/** @typedef {import('./baselines.js').StateStats} StateStats */

/**
 * The parts of each client (types.js `Core`) and its room handles. Kept off
 * the instance: no other module can reach into them, and the app sees only
 * the API.
 * @type {WeakMap<Client, { core: import('./types.js').Core, handles: RoomHandles, deprecations: DeprecationNotices }>}
 */
const parts = new WeakMap();

/**
 * @param {Client} client
 * @returns {{ core: import('./types.js').Core, handles: RoomHandles, deprecations: DeprecationNotices }}
 */
function partsOf(client) {
  return /** @type {{ core: import('./types.js').Core, handles: RoomHandles, deprecations: DeprecationNotices }} */ (parts.get(client));
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
    await connectFirst(partsOf(client).core);
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
    const link = new Link(urlList(url, options.urls));
    const tokens = parseTokens(options.tokens);
    const schema = schemaFor(options.protos, tokens);
    const output = options.game?.output ?? 'Output';
    /** @type {GameTypes} */
    const game = {
      package: options.game?.package ?? tokens[0].app,
      input: options.game?.input ?? 'Input',
      output,
      state: options.game?.state ?? output,
      message: options.game?.message ?? output,
    };
    for (const t of tokens) {
      const missing = missingTypes(schema, t, game);
      if (missing) throw new TypeError(missing);
    }
    const WS = options.WebSocket ?? /** @type {any} */ (globalThis).WebSocket;
    if (typeof WS !== 'function') {
      throw new TypeError(
        'playhouse-client: no WebSocket class: pass options.WebSocket (in Node 20: `import { WebSocket } from "ws"`)',
      );
    }
    const timeoutMs = options.timeoutMs ?? 10000;
    const fetch = options.fetch ?? /** @type {any} */ (globalThis).fetch;
    const policy = reconnectPolicy(options.reconnect);
    const authOptions = authPolicy(options.auth);
    const send = (/** @type {object} */ msg) => link.send(msg);
    if (options.deltas !== undefined && typeof options.deltas !== 'boolean') {
      throw new TypeError(`playhouse-client: options.deltas must be true or false, got ${String(options.deltas)}`);
    }
    if (options.compression !== undefined && typeof options.compression !== 'boolean') {
      throw new TypeError(`playhouse-client: options.compression must be true or false, got ${String(options.compression)}`);
    }
    const baselines = new Baselines(options.deltas ?? true, (room, tick) => send({ kind: { stateAck: { room, tick } } }));
    const isOpen = () => link.isOpen();
    const handles = new RoomHandles({
      sendInput: (room, seq, input) => this.sendInput(room, seq, input),
      leave: (room) => this.leave(room),
    });
    /** @type {Channels} */
    let channels;
    /** @type {import('./types.js').Emit} */
    const emit = (event, payload) => {
      // A room joined or left starts without baselines, before any state of it.
      baselines.onClientEvent(event, payload);
      // The handles first: a handle is current before the app hears of its room.
      handles.route(event, payload);
      this.emit(event, payload);
      // After the app heard of it: a new session subscribes again (`resubscribed` follows).
      channels.onClientEvent(event, payload);
    };
    channels = new Channels({ timeoutMs, send, isOpen: () => link.isOpen(), status: () => link.status, emit });
    const deprecations = new DeprecationNotices(emit);
    link.onAttach = (conn) => {
      deprecations.notice(conn);
      baselines.attached(conn.welcome?.stateDeltas === true);
    };
    const session = new SessionTracker(ackPolicy(options.ack), (seq) => send({ kind: { ack: { seq } } }));
    const rooms = new RoomTable();
    const requests = new Requests({ timeoutMs, send, isOpen });
    const auth = new Authenticator(authOptions, { timeoutMs, send, isOpen, emit, status: () => link.status });
    /** @type {import('./types.js').Core} */
    const core = {
      link,
      session,
      rooms,
      requests,
      auth,
      channels,
      baselines,
      policy,
      emit,
      resumer: new Resumer({ timeoutMs, session, rooms, requests, send, emit }),
      sleeper: new Sleeper(),
      dialer: new Dialer({
        tokens,
        schema,
        game,
        WS,
        timeoutMs,
        fetch,
        authMode: () => auth.mode,
        compression: options.compression ?? false,
        onFrame: (conn, bytes) => onFrame(core, conn, bytes),
        onClose: (conn, code, reason) => onSocketClose(core, conn, code, reason),
      }),
    };
    parts.set(this, { core, handles, deprecations });
  }

  /** The negotiated token, e.g. `arena.v2.proto`. */
  get protocol() {
    const last = partsOf(this).core.link.last;
    return last ? last.token.token : '';
  }

  /** The negotiated schema version, e.g. `2`. */
  get version() {
    const last = partsOf(this).core.link.last;
    return last ? last.token.version : 0;
  }

  /** The negotiated codec: `'proto'` or `'msgpack'`. */
  get codec() {
    const last = partsOf(this).core.link.last;
    return last ? last.token.codec : 'proto';
  }

  /**
   * The session id (an opaque string): from `Welcome`, kept across resumes, new
   * after a reconnect that could not resume (`newSession`).
   */
  get session() {
    return partsOf(this).core.session.id;
  }

  /**
   * The whole `Welcome` of the current connection (`session`, `resumeToken`,
   * `serverTime`, `protocol`). After a resume its `session` is the one the
   * connection opened with and gave up for the resumed one: use
   * {@link Client#session}.
   */
  get welcome() {
    const last = partsOf(this).core.link.last;
    return last ? last.welcome : null;
  }

  /**
   * The compression of large states on the current connection, as its
   * `Welcome` said: `'deflate'` when the client asked (the `compression`
   * option) and the server compresses, null otherwise (not asked, a server
   * that serves none, or an older one). Each connection asks again, so it
   * may change after a reconnect or a redirect. Compressed states are
   * inflated before the game sees them; {@link Client#stats} counts them.
   * @returns {'deflate' | null}
   */
  get compression() {
    return welcomeCompression(partsOf(this).core.link.last?.welcome);
  }

  /**
   * The current connection's schema version is deprecated: `{ protocol,
   * version, sunset }`, or null when it is current. The `deprecated` event
   * tells the same on each connection that first meets it.
   * @returns {import('./deprecation.js').Deprecation | null}
   */
  get deprecation() {
    return partsOf(this).deprecations.current;
  }

  /** The latest resume token of the session (from `Welcome`, then each `Resumed`). */
  get resumeToken() {
    return partsOf(this).core.session.token;
  }

  /** The highest reliable-message seq (`ServerMsg.seq`) received in this session. */
  get lastSeq() {
    return partsOf(this).core.session.lastSeq;
  }

  /**
   * The server URL of the current (or last) connection: after a followed
   * redirect, the room's node (`redirected` event, `kind: 'join'`), or the
   * node that holds the session (`kind: 'resume'`).
   */
  get url() {
    return partsOf(this).core.link.url;
  }

  /**
   * Every server URL, in failover order: the URLs given to `connect`; after
   * a followed redirect (a join's, or a reconnect's resume), the node moved
   * to in front of them (a reconnect tries it first: the session and the
   * room are there).
   */
  get urls() {
    return [...partsOf(this).core.link.urls];
  }

  /** The user the server authenticated (`Authenticated.user`), or null before any. */
  get user() {
    const info = partsOf(this).core.auth.info;
    return info ? info.user : null;
  }

  /** When the credential expires (`Authenticated.expiresAt`, ms since the epoch; 0: never or no auth). */
  get authExpiresAt() {
    const info = partsOf(this).core.auth.info;
    return info ? info.expiresAt : 0;
  }

  /**
   * The last round-trip time measured by {@link Client#ping}, in ms, or null.
   * @returns {number | null}
   */
  get rttMs() {
    return partsOf(this).core.requests.rttMs;
  }

  /**
   * What this client received of states so far: how many came whole and
   * how many as deltas (the `deltas` option), how many compressed (the
   * `compression` option), their bytes, the time spent inflating, and the
   * states dropped. A copy; the counts only grow.
   * @returns {StateStats}
   */
  get stats() {
    return partsOf(this).core.baselines.stats;
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
    return partsOf(this).core.auth.refresh(token);
  }

  /** `'connecting'`, `'open'`, `'reconnecting'` or `'closed'`. */
  get status() {
    return partsOf(this).core.link.status;
  }

  /**
   * The rooms this client is in (during a reconnect: the rooms it will rejoin).
   * @returns {Array<{ room: string, roomType: string, tickHz: number, client: number }>}
   */
  get rooms() {
    return partsOf(this).core.rooms.list();
  }

  /**
   * This connection's client id in `room` (to find its entry in `State.acks`), or null.
   * @param {string} room
   * @returns {number | null}
   */
  clientId(room) {
    return partsOf(this).core.rooms.get(room)?.client ?? null;
  }

  /**
   * The handle of `room`, while this client has a seat there (also for a
   * room a resume took on, which no join returned), or null.
   * @param {string} room
   * @returns {Room | null}
   */
  getRoom(room) {
    return partsOf(this).handles.get(room);
  }

  /**
   * Joins any open room of `roomType`, or creates one.
   *
   * On a node of a cluster the room found may live on another node: the
   * server answers `Redirect` and the client follows it (at most 3 times
   * per join) — it moves its connection to that node (a new session there,
   * the `redirected` event) and joins with the same options; the promise
   * resolves with that join. A client in rooms (or with other joins in
   * flight) does not move: the join rejects with {@link RedirectError}.
   * The same goes for {@link Client#join}.
   * @param {string} roomType
   * @param {Record<string, string | number | boolean>} [options]  passed to the room (values become strings)
   * @returns {Promise<Room>} rejects with {@link JoinError} when refused, {@link RedirectError}
   *   when redirected but not moving
   */
  joinOrCreate(roomType, options) {
    return this._join('joinOrCreate', { roomType: String(roomType) }, options);
  }

  /**
   * Creates a new room of `roomType` and joins it.
   * @param {string} roomType
   * @param {Record<string, string | number | boolean>} [options]
   * @returns {Promise<Room>} rejects with {@link JoinError} when refused
   */
  create(roomType, options) {
    return this._join('create', { roomType: String(roomType) }, options);
  }

  /**
   * Joins the room with id `room`. A room of another node of a cluster is
   * joined there: see {@link Client#joinOrCreate} for how redirects are followed.
   * @param {string} room
   * @param {Record<string, string | number | boolean>} [options]
   * @returns {Promise<Room>} rejects with {@link JoinError} when refused, {@link RedirectError}
   *   when redirected but not moving
   */
  join(room, options) {
    return this._join('join', { room: String(room) }, options);
  }

  /**
   * @private
   * @param {'join' | 'joinOrCreate' | 'create'} kind
   * @param {{ room?: string, roomType?: string }} fields
   * @param {unknown} options
   * @returns {Promise<Room>}
   */
  async _join(kind, fields, options) {
    const joined = await partsOf(this).core.requests.join(kind, fields, options);
    return partsOf(this).handles.take(joined);
  }

  /**
   * Leaves `room` and resolves with the server's `Left`. Frames of the room
   * are no longer emitted from the moment of the call; its handle ends
   * (`onLeave`) when this settles.
   * @param {string} room
   * @returns {Promise<LeftEvent>}
   */
  leave(room) {
    const { rooms, link, requests, baselines } = partsOf(this).core;
    if (!rooms.startLeaving(room)) return Promise.reject(new Error(`playhouse-client: not in room ${room}`));
    baselines.forget(room);
    /** @type {Promise<LeftEvent>} */
    let leaving;
    if (link.isOpen()) leaving = requests.leave(room);
    else if (link.status === 'reconnecting') leaving = Promise.resolve({ room, reason: 1, detail: 'left while reconnecting' });
    else leaving = Promise.reject(new ConnectionClosedError(1006, 'not connected', 'leave'));
    partsOf(this).handles.leaving(room, leaving);
    return leaving;
  }

  /**
   * Sends a game input for `room`, encoded with the negotiated codec and
   * version, numbered by you. A {@link Room}'s `send` numbers them itself
   * and tracks their acks: prefer it. `seq` starts at 1 and adds 1 per
   * input; it comes back in `State.acks`. Returns false (and sends nothing)
   * while not connected, e.g. during a reconnect: inputs are intent, send
   * the next one.
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
    const link = partsOf(this).core.link;
    const conn = link.conn;
    if (!conn || !link.isOpen()) return false;
    const payload = conn.codec.encodeInput(input);
    return link.send({ kind: { input: { room: String(room), seq, payload } } });
  }

  /**
   * Subscribes to `channel`: a name (`lobby`, `chat.eu`) or a pattern with
   * `*` segments (`chat.*`, which gets each publication under its concrete
   * name, without recovery or presence). Publications then arrive as
   * `publication` events, presence changes as `presence` events.
   *
   * `{ recover: true }` recovers from the last position this client saw on
   * the channel ({@link Client#channelPosition}); `{ from }` from a position
   * kept elsewhere. `Subscribed.missed` then holds what was published since
   * (also returned, not emitted as events) and `recovered` says whether that
   * is all of it.
   *
   * The subscription belongs to the session: a resume keeps it, and after a
   * new session (or a redirect) the client subscribes again by itself, with
   * recovery (`resubscribed` event).
   * @param {string} channel
   * @param {SubscribeOptions} [options]
   * @returns {Promise<Subscribed>} rejects with {@link ChannelError} when refused (e.g. 404:
   *   no such channel, 409: already subscribed), {@link ConnectionClosedError} when not
   *   connected, {@link TimeoutError} without an answer
   */
  subscribe(channel, options) {
    return partsOf(this).core.channels.subscribe(channel, options);
  }

  /**
   * Ends the subscription to `channel` (the name or pattern given to
   * {@link Client#subscribe}) and forgets its position. No answer.
   * @param {string} channel
   * @returns {boolean} whether the `Unsubscribe` went out (false while not connected;
   *   the subscription is forgotten all the same and not made again)
   */
  unsubscribe(channel) {
    return partsOf(this).core.channels.unsubscribe(channel);
  }

  /**
   * Publishes `payload` on the concrete channel `channel`, where its rules
   * let clients publish (arena: `chat.*`). Success has no answer (a
   * subscriber gets its own `publication` like everyone else); a refusal
   * comes later as a `channelError` event whose `request` is the number
   * returned here. Nothing is kept pending.
   * @param {string} channel
   * @param {Uint8Array} payload
   * @returns {number} the request id
   * @throws {TypeError} on a bad channel or payload; {@link ConnectionClosedError} when not
   *   connected (e.g. during a reconnect)
   */
  publish(channel, payload) {
    return partsOf(this).core.channels.publish(channel, payload);
  }

  /**
   * The last position this client saw on the concrete channel `channel`
   * (from `Subscribed` and every publication), or null.
   * @param {string} channel
   * @returns {ChannelPosition | null}
   */
  channelPosition(channel) {
    return partsOf(this).core.channels.position(channel);
  }

  /**
   * The channels and patterns subscribed (confirmed by the server).
   * @returns {string[]}
   */
  get channels() {
    return partsOf(this).core.channels.list();
  }

  /**
   * Measures the round-trip time with an envelope `Ping` (server queueing
   * included) and stores it in {@link Client#rttMs}.
   * @returns {Promise<number>} the RTT in milliseconds
   */
  ping() {
    return partsOf(this).core.requests.ping();
  }

  /**
   * Closes the connection normally (1000) and stops reconnecting. Pending
   * requests reject with {@link ConnectionClosedError}; `close` is emitted.
   * @returns {Promise<void>} resolves once closed
   */
  close() {
    return closeClient(partsOf(this).core);
  }
}

/**
 * The schema of the `protos` option (the game's sources, after the envelope
 * this package ships). None when nothing needs one: msgpack tokens only and
 * no sources, where messages go out as given and come in as decoded.
 * @param {string[] | undefined} protos
 * @param {Token[]} tokens
 * @returns {Schema | null}
 */
function schemaFor(protos, tokens) {
  if ((protos && protos.length) || tokens.some((t) => t.codec === 'proto')) return new Schema(protos ?? []);
  return null;
}
