import { Emitter } from './emitter.js';
export type RedirectError = import('./errors.js').RedirectError;
export type Token = import('./tokens.js').Token;
export type WireCodec = import('./codec.js').WireCodec;
export type GameTypes = import('./codec.js').GameTypes;
export type ReconnectOptions = import('./backoff.js').ReconnectOptions;
export type AckOptions = import('./session.js').AckOptions;
export type WebSocketLike = import('./types.js').WebSocketLike;
export type WebSocketConstructor = import('./types.js').WebSocketConstructor;
export type ConnectOptions = import('./types.js').ConnectOptions;
export type JoinResult = import('./types.js').JoinResult;
export type StateEvent = import('./types.js').StateEvent;
export type RoomMessage = import('./types.js').RoomMessage;
export type LeftEvent = import('./types.js').LeftEvent;
export type ServerError = import('./types.js').ServerError;
export type CloseInfo = import('./types.js').CloseInfo;
export type ReconnectingEvent = import('./types.js').ReconnectingEvent;
export type ReconnectedEvent = import('./types.js').ReconnectedEvent;
export type ResumedEvent = import('./types.js').ResumedEvent;
export type NewSessionEvent = import('./types.js').NewSessionEvent;
export type RoomInfo = import('./types.js').RoomInfo;
export type ClientEvents = import('./types.js').ClientEvents;
export type AuthInfo = import('./types.js').AuthInfo;
export type RoomState = import('./types.js').RoomState;
export type DroppedInput = import('./types.js').DroppedInput;
export type RejoinedEvent = import('./types.js').RejoinedEvent;
export type RedirectedEvent = import('./types.js').RedirectedEvent;
export type SentInput = import('./inputs.js').SentInput;
export type AuthOptions = import('./auth.js').AuthOptions;
export type Room = import('./room.js').Room;
export type Subscribed = import('./types.js').Subscribed;
export type ChannelPosition = import('./types.js').ChannelPosition;
export type SubscribeOptions = import('./channels.js').SubscribeOptions;
export type StateStats = import('./baselines.js').StateStats;
/**
 * A connection to a Playhouse server. Create one with {@link Client.connect}.
 *
 * @extends {Emitter<ClientEvents>}
 */
export declare class Client extends Emitter<ClientEvents> {
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
    static connect(url: string | string[], options: ConnectOptions): Promise<Client>;
    /**
     * Use {@link Client.connect}; the constructor only checks the options.
     * @param {string | string[]} url
     * @param {ConnectOptions} options
     */
    constructor(url: string | string[], options: ConnectOptions);
    /** The negotiated token, e.g. `arena.v2.proto`. */
    get protocol(): string;
    /** The negotiated schema version, e.g. `2`. */
    get version(): number;
    /** The negotiated codec: `'proto'` or `'msgpack'`. */
    get codec(): import("./tokens.js").CodecName;
    /**
     * The session id (an opaque string): from `Welcome`, kept across resumes, new
     * after a reconnect that could not resume (`newSession`).
     */
    get session(): string;
    /**
     * The whole `Welcome` of the current connection (`session`, `resumeToken`,
     * `serverTime`, `protocol`). After a resume its `session` is the one the
     * connection opened with and gave up for the resumed one: use
     * {@link Client#session}.
     */
    get welcome(): any;
    /**
     * The compression of large states on the current connection, as its
     * `Welcome` said: `'deflate'` when the client asked (the `compression`
     * option) and the server compresses, null otherwise (not asked, a server
     * that serves none, or an older one). Each connection asks again, so it
     * may change after a reconnect or a redirect. Compressed states are
     * inflated before the game sees them; {@link Client#stats} counts them.
     * @returns {'deflate' | null}
     */
    get compression(): 'deflate' | null;
    /**
     * The current connection's schema version is deprecated: `{ protocol,
     * version, sunset }`, or null when it is current. The `deprecated` event
     * tells the same on each connection that first meets it.
     * @returns {import('./deprecation.js').Deprecation | null}
     */
    get deprecation(): import('./deprecation.js').Deprecation | null;
    /** The latest resume token of the session (from `Welcome`, then each `Resumed`). */
    get resumeToken(): string;
    /** The highest reliable-message seq (`ServerMsg.seq`) received in this session. */
    get lastSeq(): number;
    /**
     * The server URL of the current (or last) connection: after a followed
     * redirect, the room's node (`redirected` event, `kind: 'join'`), or the
     * node that holds the session (`kind: 'resume'`).
     */
    get url(): string;
    /**
     * Every server URL, in failover order: the URLs given to `connect`; after
     * a followed redirect (a join's, or a reconnect's resume), the node moved
     * to in front of them (a reconnect tries it first: the session and the
     * room are there).
     */
    get urls(): string[];
    /** The user the server authenticated (`Authenticated.user`), or null before any. */
    get user(): string | null;
    /** When the credential expires (`Authenticated.expiresAt`, ms since the epoch; 0: never or no auth). */
    get authExpiresAt(): number;
    /**
     * The last round-trip time measured by {@link Client#ping}, in ms, or null.
     * @returns {number | null}
     */
    get rttMs(): number | null;
    /**
     * What this client received of states so far: how many came whole and
     * how many as deltas (the `deltas` option), how many compressed (the
     * `compression` option), their bytes, the time spent inflating, and the
     * states dropped. A copy; the counts only grow.
     * @returns {StateStats}
     */
    get stats(): StateStats;
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
    refreshToken(token?: string): Promise<AuthInfo>;
    /** `'connecting'`, `'open'`, `'reconnecting'` or `'closed'`. */
    get status(): import("./link.js").Status;
    /**
     * The rooms this client is in (during a reconnect: the rooms it will rejoin).
     * @returns {Array<{ room: string, roomType: string, tickHz: number, client: number }>}
     */
    get rooms(): Array<{
        room: string;
        roomType: string;
        tickHz: number;
        client: number;
    }>;
    /**
     * This connection's client id in `room` (to find its entry in `State.acks`), or null.
     * @param {string} room
     * @returns {number | null}
     */
    clientId(room: string): number | null;
    /**
     * The handle of `room`, while this client has a seat there (also for a
     * room a resume took on, which no join returned), or null.
     * @param {string} room
     * @returns {Room | null}
     */
    getRoom(room: string): Room | null;
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
    joinOrCreate(roomType: string, options?: Record<string, string | number | boolean>): Promise<Room>;
    /**
     * Creates a new room of `roomType` and joins it.
     * @param {string} roomType
     * @param {Record<string, string | number | boolean>} [options]
     * @returns {Promise<Room>} rejects with {@link JoinError} when refused
     */
    create(roomType: string, options?: Record<string, string | number | boolean>): Promise<Room>;
    /**
     * Joins the room with id `room`. A room of another node of a cluster is
     * joined there: see {@link Client#joinOrCreate} for how redirects are followed.
     * @param {string} room
     * @param {Record<string, string | number | boolean>} [options]
     * @returns {Promise<Room>} rejects with {@link JoinError} when refused, {@link RedirectError}
     *   when redirected but not moving
     */
    join(room: string, options?: Record<string, string | number | boolean>): Promise<Room>;
    /**
     * @private
     * @param {'join' | 'joinOrCreate' | 'create'} kind
     * @param {{ room?: string, roomType?: string }} fields
     * @param {unknown} options
     * @returns {Promise<Room>}
     */
    private _join;
    /**
     * Leaves `room` and resolves with the server's `Left`. Frames of the room
     * are no longer emitted from the moment of the call; its handle ends
     * (`onLeave`) when this settles.
     * @param {string} room
     * @returns {Promise<LeftEvent>}
     */
    leave(room: string): Promise<LeftEvent>;
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
    sendInput(room: string, seq: number, input: object): boolean;
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
    subscribe(channel: string, options?: SubscribeOptions): Promise<Subscribed>;
    /**
     * Ends the subscription to `channel` (the name or pattern given to
     * {@link Client#subscribe}) and forgets its position. No answer.
     * @param {string} channel
     * @returns {boolean} whether the `Unsubscribe` went out (false while not connected;
     *   the subscription is forgotten all the same and not made again)
     */
    unsubscribe(channel: string): boolean;
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
    publish(channel: string, payload: Uint8Array): number;
    /**
     * The last position this client saw on the concrete channel `channel`
     * (from `Subscribed` and every publication), or null.
     * @param {string} channel
     * @returns {ChannelPosition | null}
     */
    channelPosition(channel: string): ChannelPosition | null;
    /**
     * The channels and patterns subscribed (confirmed by the server).
     * @returns {string[]}
     */
    get channels(): string[];
    /**
     * Measures the round-trip time with an envelope `Ping` (server queueing
     * included) and stores it in {@link Client#rttMs}.
     * @returns {Promise<number>} the RTT in milliseconds
     */
    ping(): Promise<number>;
    /**
     * Closes the connection normally (1000) and stops reconnecting. Pending
     * requests reject with {@link ConnectionClosedError}; `close` is emitted.
     * @returns {Promise<void>} resolves once closed
     */
    close(): Promise<void>;
}
