export type Token = import('./tokens.js').Token;
export type WireCodec = import('./codec.js').WireCodec;
export type GameTypes = import('./codec.js').GameTypes;
export type ReconnectOptions = import('./backoff.js').ReconnectOptions;
export type AckOptions = import('./session.js').AckOptions;
export type JoinError = import('./errors.js').JoinError;
export type Client = import('./client.js').Client;
export type WebSocketLike = {
    protocol: string;
    readyState: number;
    binaryType: string;
    onopen: ((ev: any) => void) | null;
    onmessage: ((ev: any) => void) | null;
    onerror: ((ev: any) => void) | null;
    onclose: ((ev: any) => void) | null;
    send: (data: Uint8Array) => void;
    close: (code?: number, reason?: string) => void;
};
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;
export type ConnectOptions = {
    /**
     * subprotocol tokens `<app>.v<N>.<codec>`, best first
     * (the server applies its own rule: highest shared version, then its codec preference)
     */
    tokens: string[];
    /**
     * `.proto` sources as strings: the envelope and the
     * game's schemas. Required for `proto` tokens; with `msgpack` tokens they are
     * used (when present) to normalise and check messages
     */
    protos?: string[];
    /**
     * game type names; default
     * `{ package: <app of the first token>, input: 'Input', output: 'Output' }`, with
     * `state` and `message` (the types state and reliable message payloads decode as)
     * defaulting to `output`
     */
    game?: GameTypes;
    /**
     * more server URLs to fail over to, after the URL(s)
     * given to `connect`: the first connect tries them in order, a reconnect starts at
     * the URL of the lost connection and moves to the next one after each failed attempt
     */
    urls?: string[];
    /**
     * reconnect on abnormal closes;
     * omitted or `false`: never. `true`: the defaults (250 ms base, 5 s cap, 8 tries,
     * resume the session)
     */
    reconnect?: ReconnectOptions | boolean;
    /**
     * when to acknowledge reliable messages
     * (default `{ intervalMs: 1000, every: 64 }`; `false`: never)
     */
    ack?: AckOptions | boolean;
    /**
     * default `globalThis.WebSocket`
     * (in Node 20 pass `WebSocket` from the `ws` package)
     */
    WebSocket?: WebSocketConstructor;
    /**
     * limit for the handshake, joins, leaves and pings
     */
    timeoutMs?: number;
    /**
     * for `GET /info`
     * after a refused handshake; default `globalThis.fetch`
     */
    fetch?: (url: string, init?: any) => Promise<any>;
    /**
     * authenticate every connection:
     * `{ token, mode: 'message' | 'query' }` (see README, Authentication)
     */
    auth?: import('./auth.js').AuthOptions;
    /**
     * take states as deltas: the client acknowledges each state
     * it applied (`StateAck`), the server sends later states of the room as deltas against it,
     * and the client rebuilds the whole state before decoding it (the game sees whole states
     * only; {@link Client#stats} counts them). `false`: no acknowledgements, every state whole
     */
    deltas?: boolean;
    /**
     * ask for large states compressed (raw DEFLATE,
     * docs/protocol.md §4.6): every connection's URL gets `compress=deflate`, and a server
     * that compresses says so in its `Welcome` ({@link Client#compression}). The client inflates
     * them before the game sees them ({@link Client#stats} counts them); it inflates any that
     * come compressed, whether it asked or not
     */
    compression?: boolean;
};
export type AuthInfo = {
    /**
     * the user id the server knows (JWT `sub`)
     */
    user: string;
    /**
     * when the credential expires, ms since the epoch
     * (0: never); refresh before then, or the server closes with 1008
     */
    expiresAt: number;
};
export type JoinResult = {
    /**
     * the room id
     */
    room: string;
    roomType: string;
    /**
     * ticks per second
     */
    tickHz: number;
    /**
     * this connection's id in the room (find it in `State.acks`)
     */
    client: number;
    /**
     * the request id the join used (0: a room a resume took on)
     */
    request: number;
    /**
     * only on the SDK's own rejoin after a new session: the
     * room id this seat replaces (the same as `room` unless that room was gone)
     */
    previous?: string;
};
export type StateEvent = {
    room: string;
    tick: number;
    /**
     * highest input seq processed,
     * per client of this connection's (version, codec) group
     */
    acks: Array<{
        client: number;
        seq: number;
    }>;
    /**
     * the decoded game state, of type `game.state` (arena: its
     * `Output`, `{ kind: { state: {...} } }`)
     */
    payload: any;
};
export type RoomMessage = {
    room: string;
    /**
     * per-room counter; gaps are normal
     */
    seq: number;
    /**
     * the decoded game message, of type `game.message` (arena: its
     * `Output`, `{ kind: { event: {...} } }`)
     */
    payload: any;
};
export type LeftEvent = {
    room: string;
    /**
     * LeaveReason: 1 REQUESTED, 2 KICKED, 3 DISPOSED, 4 ROOM_CRASHED,
     * 5 DISCONNECTED (the seat's reconnect window passed); 0 when a resume showed the
     * session is no longer in the room without a `Left` having arrived
     */
    reason: number;
    detail: string;
};
export type ServerError = {
    code: number;
    reason: string;
    /**
     * for an error about one input (with `inputSeq`): its room
     */
    room?: string;
    /**
     * that input's seq: it was never processed
     * (1013 room busy, 4003 refused, 4004 not in the room)
     */
    inputSeq?: number;
};
export type DroppedInput = {
    /**
     * the seq the SDK gave it
     */
    seq: number;
    /**
     * 1013 room busy, 4003 refused by the room, 4004 not in the room
     */
    code: number;
    reason: string;
    /**
     * the input as sent, when it was still unacknowledged
     * (a later ack may have covered its seq already: the ack skips dropped inputs)
     */
    input: object | null;
};
export type RoomState = StateEvent & {
    ackedSeq: number;
    acked: import('./inputs.js').SentInput[];
};
export type RejoinedEvent = {
    /**
     * the room id now
     */
    room: string;
    /**
     * the room id before (differs when the old room was gone)
     */
    previous: string;
    roomType: string;
    tickHz: number;
    /**
     * the new client id
     */
    client: number;
};
export type RoomEvents = {
    state: RoomState;
    message: RoomMessage;
    leave: LeftEvent;
    inputDropped: DroppedInput;
    rejoined: RejoinedEvent;
};
export type CloseInfo = {
    /**
     * the WebSocket close code (1006: dropped without a close frame)
     */
    code: number;
    reason: string;
};
export type ReconnectingEvent = {
    /**
     * 1 for the first attempt after a drop
     */
    attempt: number;
    /**
     * the wait before this attempt
     */
    delayMs: number;
    /**
     * the close code that started the reconnect
     */
    code: number;
    reason: string;
    /**
     * the server URL this attempt goes to
     */
    url: string;
};
export type ShutdownEvent = {
    /**
     * the first reconnect waits this long, plus jitter
     */
    reconnectAfterMs: number;
    /**
     * the node a draining cluster node handed the session (and its
     * rooms) to: the first reconnect resumes there, before the configured URLs;
     * '' when the server named none (a lone server restarting)
     */
    url: string;
};
export type ReconnectedEvent = {
    /**
     * the session was resumed (else it is new: `newSession` came first)
     */
    resumed: boolean;
    /**
     * the rooms the client is in;
     * `previous` is the room id before the drop (`room` differs when the old room
     * was gone and a room of the same type was joined or created). After a resume
     * `room === previous`, `client` is unchanged and `request` is 0
     */
    rooms: Array<JoinResult & {
        previous: string;
    }>;
    /**
     *   rooms that could not be rejoined (a {@link import('./errors.js').RedirectError}: the
     *   rejoin was redirected to another node of a cluster, which a reconnect does not follow)
     */
    failed: Array<{
        room: string;
        roomType: string;
        error: JoinError | import('./errors.js').RedirectError;
    }>;
    /**
     * the token negotiated this time
     */
    protocol: string;
    /**
     * the session id now
     */
    session: string;
    /**
     * the server URL connected to
     */
    url: string;
};
export type RoomInfo = {
    room: string;
    roomType: string;
    tickHz: number;
    client: number;
};
export type ResumedEvent = {
    /**
     * the session id (unchanged)
     */
    session: string;
    /**
     * reliable messages the server sent again
     */
    replayed: number;
    /**
     * some missed reliable messages were no longer buffered
     * and are lost: rebuild what they carried from the states that follow
     */
    resync: boolean;
    /**
     * the rooms the session is in
     */
    rooms: RoomInfo[];
};
export type NewSessionEvent = {
    /**
     * the new session id
     */
    session: string;
    /**
     * the session id before
     */
    previous: string;
    /**
     * why (the server's reason for the 4002)
     */
    reason: string;
};
export type RedirectedEvent = {
    /**
     * what was redirected
     */
    kind: 'join' | 'resume';
    /**
     * the URL of the node the client left
     */
    from: string;
    /**
     * the URL of the node connected to now
     */
    to: string;
    /**
     * the room the join goes to there (`''` for a resume)
     */
    room: string;
    /**
     * the session's id now (after a join's move: the new one)
     */
    session: string;
    /**
     * the session id before (a join's move ended it)
     */
    previous: string;
};
export type ChannelPosition = {
    offset: number;
    epoch: string;
};
export type Publication = {
    /**
     * the concrete channel name
     */
    channel: string;
    /**
     * its number in the channel (1, 2, 3, … within the epoch)
     */
    offset: number;
    epoch: string;
    /**
     * the bytes as published
     */
    payload: Uint8Array;
    /**
     * the publisher's user (or session name); empty for room code
     */
    publisher: string;
};
export type Subscribed = {
    request: number;
    channel: string;
    /**
     * the channel's position now
     */
    offset: number;
    epoch: string;
    /**
     * with `recover`: nothing is missing (`missed` is all of it).
     * False without `recover`, or when the epoch changed or the gap outran the history:
     * resync your view another way
     */
    recovered: boolean;
    /**
     * what was published after the position recovered from
     * (or, without `recover`, while the subscribe was being set up), in order. Not emitted
     * as `publication` events: handle them from here
     */
    missed: Publication[];
    /**
     * who is subscribed now (users, or session names); empty for a pattern
     */
    presence: string[];
};
export type PresenceEvent = {
    channel: string;
    joined: string[];
    left: string[];
};
export type ResubscribedEvent = {
    channel: string;
    /**
     * nothing is missing; false: the epoch changed or the gap
     * outran the channel's history — resync your view another way
     */
    recovered: boolean;
    /**
     * the channel's position now
     */
    offset: number;
    epoch: string;
    /**
     * how many publications were recovered (emitted before this)
     */
    missed: number;
    /**
     * who is subscribed now
     */
    presence: string[];
};
export type ClientEvents = {
    state: StateEvent;
    message: RoomMessage;
    joined: JoinResult;
    left: LeftEvent;
    error: ServerError;
    pong: {
        clientTime: number;
        serverTime: number;
    };
    close: CloseInfo;
    reconnecting: ReconnectingEvent;
    reconnected: ReconnectedEvent;
    resumed: ResumedEvent;
    newSession: NewSessionEvent;
    /**
     * the negotiated schema version is
     * deprecated (its Welcome said so): once per token and sunset, on the connection that first
     * met it (for the first connection, read {@link Client#deprecation} after `connect`)
     */
    deprecated: import('./deprecation.js').Deprecation;
    /**
     * closed with 4009: the session was resumed on another
     * connection; no reconnect follows (`close` comes next)
     */
    replaced: CloseInfo;
    /**
     * the server accepted the credential (each connection, each refresh)
     */
    authenticated: AuthInfo;
    /**
     * authentication failed or the credential
     * ended (a 4001/4002/4003/1008 close, HTTP 401 on a reconnect, a failed automatic
     * refresh); when `fatal`, `close` follows and the client does not reconnect
     */
    authError: import('./errors.js').AuthError;
    /**
     * the server is draining; its close (1001) follows
     */
    shutdown: ShutdownEvent;
    /**
     * a join (a new session) or a reconnect's resume (the
     * same session) was redirected to another node of a cluster and the client moved its
     * connection there
     */
    redirected: RedirectedEvent;
    /**
     * a message on a subscribed channel
     */
    publication: Publication;
    /**
     * who joined or left a subscribed channel
     */
    presence: PresenceEvent;
    /**
     * a publish refused (its `request` is
     * what {@link Client#publish} returned), or the SDK's re-subscribe after a new session refused
     * (the subscription is then gone). A refused {@link Client#subscribe} rejects instead
     */
    channelError: import('./errors.js').ChannelError;
    /**
     * a subscription made again after a new session
     */
    resubscribed: ResubscribedEvent;
};
export type Conn = {
    url: string;
    ws: WebSocketLike;
    token: Token;
    codec: WireCodec;
    welcome: any;
    closedWith: {
        code: number;
        reason: string;
    } | null;
    /**
     * an `Auth` is due first: nothing else may be sent yet
     */
    awaitingAuth: boolean;
};
export type RoomRecord = {
    room: string;
    roomType: string;
    tickHz: number;
    client: number;
    /**
     * the options it was joined with (for rejoins)
     */
    options: Record<string, string>;
    left: boolean;
    /**
     * the seat was in a session that is gone: join again
     */
    rejoin: boolean;
};
export type ResumeWait = {
    conn: Conn;
    resolve: (r: ResumeOutcome) => void;
    reject: (e: Error) => void;
    /**
     * set when `Resumed` arrived
     */
    answer: ResumedEvent | null;
    /**
     * the seq of the last replayed message
     */
    replayUntil: number;
};
export type ResumeOutcome = {
    ok: true;
    resumed: ResumedEvent;
} | {
    ok: false;
    reason: string;
    redirect?: string;
};
export type Pending = {
    resolve: (v: any) => void;
    reject: (e: Error) => void;
    timer: ReturnType<typeof setTimeout>;
};
export type Emit = <K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]) => void;
export type Core = {
    /**
     * the attached socket, URLs, status
     */
    link: import('./link.js').Link;
    /**
     * opens sockets
     */
    dialer: import('./dial.js').Dialer;
    /**
     * session id, token, reliable seqs, acks
     */
    session: import('./session.js').SessionTracker;
    /**
     * the rooms and the ones being left
     */
    rooms: import('./rooms.js').RoomTable;
    /**
     * joins, leaves, pings in flight
     */
    requests: import('./requests.js').Requests;
    /**
     * the resume in flight
     */
    resumer: import('./resume.js').Resumer;
    /**
     * the credential
     */
    auth: import('./auth.js').Authenticator;
    /**
     * subscriptions, channel positions, subscribes in flight
     */
    channels: import('./channels.js').Channels;
    /**
     * the states held per room for deltas, and their counts
     */
    baselines: import('./baselines.js').Baselines;
    /**
     * null: no reconnects
     */
    policy: import('./backoff.js').ReconnectPolicy | null;
    /**
     * the wait between reconnect attempts
     */
    sleeper: import('./reconnect.js').Sleeper;
    emit: Emit;
};
/** @typedef {import('./tokens.js').Token} Token */
/** @typedef {import('./codec.js').WireCodec} WireCodec */
/** @typedef {import('./codec.js').GameTypes} GameTypes */
/** @typedef {import('./backoff.js').ReconnectOptions} ReconnectOptions */
/** @typedef {import('./session.js').AckOptions} AckOptions */
/** @typedef {import('./errors.js').JoinError} JoinError */
/** @typedef {import('./client.js').Client} Client */
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
 *   `{ package: <app of the first token>, input: 'Input', output: 'Output' }`, with
 *   `state` and `message` (the types state and reliable message payloads decode as)
 *   defaulting to `output`
 * @property {string[]} [urls]  more server URLs to fail over to, after the URL(s)
 *   given to `connect`: the first connect tries them in order, a reconnect starts at
 *   the URL of the lost connection and moves to the next one after each failed attempt
 * @property {ReconnectOptions | boolean} [reconnect]  reconnect on abnormal closes;
 *   omitted or `false`: never. `true`: the defaults (250 ms base, 5 s cap, 8 tries,
 *   resume the session)
 * @property {AckOptions | boolean} [ack]  when to acknowledge reliable messages
 *   (default `{ intervalMs: 1000, every: 64 }`; `false`: never)
 * @property {WebSocketConstructor} [WebSocket]  default `globalThis.WebSocket`
 *   (in Node 20 pass `WebSocket` from the `ws` package)
 * @property {number} [timeoutMs=10000]  limit for the handshake, joins, leaves and pings
 * @property {(url: string, init?: any) => Promise<any>} [fetch]  for `GET /info`
 *   after a refused handshake; default `globalThis.fetch`
 * @property {import('./auth.js').AuthOptions} [auth]  authenticate every connection:
 *   `{ token, mode: 'message' | 'query' }` (see README, Authentication)
 * @property {boolean} [deltas=true]  take states as deltas: the client acknowledges each state
 *   it applied (`StateAck`), the server sends later states of the room as deltas against it,
 *   and the client rebuilds the whole state before decoding it (the game sees whole states
 *   only; {@link Client#stats} counts them). `false`: no acknowledgements, every state whole
 * @property {boolean} [compression=false]  ask for large states compressed (raw DEFLATE,
 *   docs/protocol.md §4.6): every connection's URL gets `compress=deflate`, and a server
 *   that compresses says so in its `Welcome` ({@link Client#compression}). The client inflates
 *   them before the game sees them ({@link Client#stats} counts them); it inflates any that
 *   come compressed, whether it asked or not
 */
/**
 * `authenticated` event, and what {@link Client#refreshToken} resolves with:
 * the server accepted the credential (on connecting, on each reconnect, on a refresh).
 * @typedef {object} AuthInfo
 * @property {string} user       the user id the server knows (JWT `sub`)
 * @property {number} expiresAt  when the credential expires, ms since the epoch
 *   (0: never); refresh before then, or the server closes with 1008
 */
/**
 * A successful join (the `Joined` envelope): the `joined` event. The join
 * methods resolve with a {@link import('./room.js').Room}, which has these
 * fields too.
 * @typedef {object} JoinResult
 * @property {string} room      the room id
 * @property {string} roomType
 * @property {number} tickHz    ticks per second
 * @property {number} client    this connection's id in the room (find it in `State.acks`)
 * @property {number} request   the request id the join used (0: a room a resume took on)
 * @property {string} [previous]  only on the SDK's own rejoin after a new session: the
 *   room id this seat replaces (the same as `room` unless that room was gone)
 */
/**
 * A state snapshot (`state` event). Latest wins: a slow client skips ticks.
 * @typedef {object} StateEvent
 * @property {string} room
 * @property {number} tick
 * @property {Array<{ client: number, seq: number }>} acks  highest input seq processed,
 *   per client of this connection's (version, codec) group
 * @property {any} payload  the decoded game state, of type `game.state` (arena: its
 *   `Output`, `{ kind: { state: {...} } }`)
 */
/**
 * A reliable room message (`message` event).
 * @typedef {object} RoomMessage
 * @property {string} room
 * @property {number} seq   per-room counter; gaps are normal
 * @property {any} payload  the decoded game message, of type `game.message` (arena: its
 *   `Output`, `{ kind: { event: {...} } }`)
 */
/**
 * `left` event: this connection is no longer in `room`.
 * @typedef {object} LeftEvent
 * @property {string} room
 * @property {number} reason  LeaveReason: 1 REQUESTED, 2 KICKED, 3 DISPOSED, 4 ROOM_CRASHED,
 *   5 DISCONNECTED (the seat's reconnect window passed); 0 when a resume showed the
 *   session is no longer in the room without a `Left` having arrived
 * @property {string} detail
 */
/**
 * `error` event: a non-fatal error. Codes from the server (docs/protocol.md
 * §4.2): 4004 not in room, 1013 room busy (input dropped), 1003 unknown kind
 * (4002, resume unavailable, is not emitted here: it becomes `newSession`).
 * Local codes: 1007, a server message did not decode (it was skipped); 1002,
 * a reliable message arrived after a gap in the session's seq without a
 * resync (a server bug; the message is used anyway).
 * @typedef {object} ServerError
 * @property {number} code
 * @property {string} reason
 * @property {string} [room]      for an error about one input (with `inputSeq`): its room
 * @property {number} [inputSeq]  that input's seq: it was never processed
 *   (1013 room busy, 4003 refused, 4004 not in the room)
 */
/**
 * An input the server never processed: `Room#onInputDropped`.
 * @typedef {object} DroppedInput
 * @property {number} seq     the seq the SDK gave it
 * @property {number} code    1013 room busy, 4003 refused by the room, 4004 not in the room
 * @property {string} reason
 * @property {object | null} input  the input as sent, when it was still unacknowledged
 *   (a later ack may have covered its seq already: the ack skips dropped inputs)
 */
/**
 * A state of a room, as its handle delivers it (`Room#onState`): the
 * {@link StateEvent} plus this seat's acknowledgement, already taken.
 * @typedef {StateEvent & { ackedSeq: number, acked: import('./inputs.js').SentInput[] }} RoomState
 *   `ackedSeq`: the seat's acknowledged input seq after this state (`Room#ackedSeq`);
 *   `acked`: the inputs this state acknowledged, oldest first (empty when the ack did not move)
 */
/**
 * `Room#onRejoined`: the seat was lost with its session and the SDK joined
 * again, as a new player: a new client id, the input seq starts over at 1
 * and nothing is pending. Prediction and anything else tied to the old seat
 * starts over too.
 * @typedef {object} RejoinedEvent
 * @property {string} room      the room id now
 * @property {string} previous  the room id before (differs when the old room was gone)
 * @property {string} roomType
 * @property {number} tickHz
 * @property {number} client    the new client id
 */
/**
 * Events of a {@link import('./room.js').Room} and their payloads.
 * @typedef {object} RoomEvents
 * @property {RoomState} state
 * @property {RoomMessage} message
 * @property {LeftEvent} leave
 * @property {DroppedInput} inputDropped
 * @property {RejoinedEvent} rejoined
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
 * @property {string} url      the server URL this attempt goes to
 */
/**
 * `shutdown` event: the server is draining (a restart, or a cluster node
 * leaving); its close (1001) follows and the client reconnects.
 * @typedef {object} ShutdownEvent
 * @property {number} reconnectAfterMs  the first reconnect waits this long, plus jitter
 * @property {string} url  the node a draining cluster node handed the session (and its
 *   rooms) to: the first reconnect resumes there, before the configured URLs;
 *   '' when the server named none (a lone server restarting)
 */
/**
 * `reconnected` event: connected again, after every successful reconnect:
 * the session resumed (seats kept) or a new one with the rooms rejoined.
 * @typedef {object} ReconnectedEvent
 * @property {boolean} resumed  the session was resumed (else it is new: `newSession` came first)
 * @property {Array<JoinResult & { previous: string }>} rooms  the rooms the client is in;
 *   `previous` is the room id before the drop (`room` differs when the old room
 *   was gone and a room of the same type was joined or created). After a resume
 *   `room === previous`, `client` is unchanged and `request` is 0
 * @property {Array<{ room: string, roomType: string, error: JoinError | import('./errors.js').RedirectError }>} failed
 *   rooms that could not be rejoined (a {@link import('./errors.js').RedirectError}: the
 *   rejoin was redirected to another node of a cluster, which a reconnect does not follow)
 * @property {string} protocol  the token negotiated this time
 * @property {string} session   the session id now
 * @property {string} url       the server URL connected to
 */
/**
 * A room of the session, as `Resumed.rooms` lists it.
 * @typedef {object} RoomInfo
 * @property {string} room
 * @property {string} roomType
 * @property {number} tickHz
 * @property {number} client
 */
/**
 * `resumed` event: the session was resumed on a new connection. The missed
 * reliable messages (`replayed` of them) have been emitted by now, in order
 * and each once; the rooms are reconciled with the server's list.
 * @typedef {object} ResumedEvent
 * @property {string} session   the session id (unchanged)
 * @property {number} replayed  reliable messages the server sent again
 * @property {boolean} resync   some missed reliable messages were no longer buffered
 *   and are lost: rebuild what they carried from the states that follow
 * @property {RoomInfo[]} rooms the rooms the session is in
 */
/**
 * `newSession` event: a reconnect could not resume the session (the server
 * answered `Error{4002}`: the reconnect window passed, the server restarted,
 * or this is another server), or resume is off. Seats and unreplayed messages
 * are gone; the rooms are rejoined next (`reconnected` follows).
 * @typedef {object} NewSessionEvent
 * @property {string} session   the new session id
 * @property {string} previous  the session id before
 * @property {string} reason    why (the server's reason for the 4002)
 */
/**
 * `redirected` event: the client moved its connection to another node of
 * the cluster (docs/protocol.md §4.3). From now on `Client#url` is `to`, and
 * reconnects try `to` first (`Client#urls`).
 *
 * - `kind: 'join'`: a join's room lives on that node: a new connection to
 *   `to`, with a new session (`session`; the one on `from` ended). The join
 *   goes on there and settles as usual.
 * - `kind: 'resume'`: a reconnect's `Resume` reached a node that does not
 *   hold the session, and it named the node that does: a new connection to
 *   `to`, where the same `Resume` goes next. `room` is `''`, and `session`
 *   and `previous` are both the session being resumed (it goes on there).
 * @typedef {object} RedirectedEvent
 * @property {'join' | 'resume'} kind  what was redirected
 * @property {string} from     the URL of the node the client left
 * @property {string} to       the URL of the node connected to now
 * @property {string} room     the room the join goes to there (`''` for a resume)
 * @property {string} session  the session's id now (after a join's move: the new one)
 * @property {string} previous the session id before (a join's move ended it)
 */
/**
 * A channel's position: the offset of its last publication, within its epoch
 * (docs/protocol.md §4.4). Offsets of another epoch mean nothing.
 * @typedef {object} ChannelPosition
 * @property {number} offset
 * @property {string} epoch
 */
/**
 * `publication` event: a message on a subscribed channel, under its concrete
 * name (also for a pattern subscription).
 * @typedef {object} Publication
 * @property {string} channel    the concrete channel name
 * @property {number} offset     its number in the channel (1, 2, 3, … within the epoch)
 * @property {string} epoch
 * @property {Uint8Array} payload  the bytes as published
 * @property {string} publisher  the publisher's user (or session name); empty for room code
 */
/**
 * What {@link Client#subscribe} resolves with (the `Subscribed` envelope).
 * @typedef {object} Subscribed
 * @property {number} request
 * @property {string} channel
 * @property {number} offset      the channel's position now
 * @property {string} epoch
 * @property {boolean} recovered  with `recover`: nothing is missing (`missed` is all of it).
 *   False without `recover`, or when the epoch changed or the gap outran the history:
 *   resync your view another way
 * @property {Publication[]} missed  what was published after the position recovered from
 *   (or, without `recover`, while the subscribe was being set up), in order. Not emitted
 *   as `publication` events: handle them from here
 * @property {string[]} presence  who is subscribed now (users, or session names); empty for a pattern
 */
/**
 * `presence` event: who joined or left a subscribed channel.
 * @typedef {object} PresenceEvent
 * @property {string} channel
 * @property {string[]} joined
 * @property {string[]} left
 */
/**
 * `resubscribed` event: after a new session (a reconnect that could not
 * resume, or a redirect), the SDK subscribed again to `channel`, recovering
 * from the last position seen. What was missed has been emitted as
 * `publication` events just before, in order.
 * @typedef {object} ResubscribedEvent
 * @property {string} channel
 * @property {boolean} recovered  nothing is missing; false: the epoch changed or the gap
 *   outran the channel's history — resync your view another way
 * @property {number} offset      the channel's position now
 * @property {string} epoch
 * @property {number} missed      how many publications were recovered (emitted before this)
 * @property {string[]} presence  who is subscribed now
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
 * @property {ResumedEvent} resumed
 * @property {NewSessionEvent} newSession
 * @property {import('./deprecation.js').Deprecation} deprecated  the negotiated schema version is
   deprecated (its Welcome said so): once per token and sunset, on the connection that first
   met it (for the first connection, read {@link Client#deprecation} after `connect`)
 * @property {CloseInfo} replaced  closed with 4009: the session was resumed on another
 *   connection; no reconnect follows (`close` comes next)
 * @property {AuthInfo} authenticated  the server accepted the credential (each connection, each refresh)
 * @property {import('./errors.js').AuthError} authError  authentication failed or the credential
 *   ended (a 4001/4002/4003/1008 close, HTTP 401 on a reconnect, a failed automatic
 *   refresh); when `fatal`, `close` follows and the client does not reconnect
 * @property {ShutdownEvent} shutdown  the server is draining; its close (1001) follows
 * @property {RedirectedEvent} redirected  a join (a new session) or a reconnect's resume (the
 *   same session) was redirected to another node of a cluster and the client moved its
 *   connection there
 * @property {Publication} publication  a message on a subscribed channel
 * @property {PresenceEvent} presence  who joined or left a subscribed channel
 * @property {import('./errors.js').ChannelError} channelError  a publish refused (its `request` is
 *   what {@link Client#publish} returned), or the SDK's re-subscribe after a new session refused
 *   (the subscription is then gone). A refused {@link Client#subscribe} rejects instead
 * @property {ResubscribedEvent} resubscribed  a subscription made again after a new session
 */
/**
 * @typedef {object} Conn  one open socket after its Welcome
 * @property {string} url
 * @property {WebSocketLike} ws
 * @property {Token} token
 * @property {WireCodec} codec
 * @property {any} welcome
 * @property {{ code: number, reason: string } | null} closedWith
 * @property {boolean} awaitingAuth  an `Auth` is due first: nothing else may be sent yet
 */
/**
 * @typedef {object} RoomRecord
 * @property {string} room
 * @property {string} roomType
 * @property {number} tickHz
 * @property {number} client
 * @property {Record<string, string>} options  the options it was joined with (for rejoins)
 * @property {boolean} left
 * @property {boolean} rejoin  the seat was in a session that is gone: join again
 */
/**
 * A resume in flight on one connection.
 * @typedef {object} ResumeWait
 * @property {Conn} conn
 * @property {(r: ResumeOutcome) => void} resolve
 * @property {(e: Error) => void} reject
 * @property {ResumedEvent | null} answer  set when `Resumed` arrived
 * @property {number} replayUntil  the seq of the last replayed message
 */
/**
 * What a `Resume` got: the session resumed; refused (`Error{4002}`); or, on
 * a cluster, `redirect`: the URL of the node that holds the session, where
 * to send the same `Resume` again.
 * @typedef {{ ok: true, resumed: ResumedEvent } | { ok: false, reason: string, redirect?: string }} ResumeOutcome
 */
/**
 * @typedef {object} Pending
 * @property {(v: any) => void} resolve
 * @property {(e: Error) => void} reject
 * @property {ReturnType<typeof setTimeout>} timer
 */
/**
 * Emits a client event (listeners of the Client, and the room handles first).
 * @typedef {<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]) => void} Emit
 */
/**
 * The parts of one client, each owning its state behind its methods.
 * client.js builds them; every other module takes the parts it uses
 * (`Pick<Core, …>`) and never another's private fields.
 * @typedef {object} Core
 * @property {import('./link.js').Link} link            the attached socket, URLs, status
 * @property {import('./dial.js').Dialer} dialer        opens sockets
 * @property {import('./session.js').SessionTracker} session  session id, token, reliable seqs, acks
 * @property {import('./rooms.js').RoomTable} rooms      the rooms and the ones being left
 * @property {import('./requests.js').Requests} requests  joins, leaves, pings in flight
 * @property {import('./resume.js').Resumer} resumer    the resume in flight
 * @property {import('./auth.js').Authenticator} auth   the credential
 * @property {import('./channels.js').Channels} channels  subscriptions, channel positions, subscribes in flight
 * @property {import('./baselines.js').Baselines} baselines  the states held per room for deltas, and their counts
 * @property {import('./backoff.js').ReconnectPolicy | null} policy  null: no reconnects
 * @property {import('./reconnect.js').Sleeper} sleeper  the wait between reconnect attempts
 * @property {Emit} emit
 */
export {};
