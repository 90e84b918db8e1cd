/**
 * `JoinErrorCode` numbers → names (envelope.proto; docs/protocol.md §4.2).
 * @type {Readonly<Record<number, string>>}
 */
export declare const JOIN_ERROR_NAMES: Readonly<Record<number, string>>;
/** `JoinErrorCode` names → numbers, e.g. `JoinErrorCode.ROOM_NOT_FOUND === 1`. */
export declare const JoinErrorCode: Readonly<{
    JOIN_ERROR_UNSPECIFIED: 0;
    ROOM_NOT_FOUND: 1;
    ROOM_FULL: 2;
    ROOM_LOCKED: 3;
    REJECTED: 4;
    UNKNOWN_ROOM_TYPE: 5;
    ALREADY_JOINED: 6;
    TOO_MANY_ROOMS: 7;
    INTERNAL: 8;
    FORBIDDEN: 9;
    ROOM_LIMIT: 10;
    CREATE_RATE_LIMITED: 11;
}>;
export type ConnectErrorKind = 'unreachable' | 'bad-protocol' | 'no-welcome' | 'timeout' | RefusalKind;
export type RefusalKind = 'incompatible' | 'wrong-app' | 'forbidden' | 'too-many' | 'unavailable' | 'refused';
/**
 * What kind of {@link ConnectError}: `unreachable`, `bad-protocol`,
 * `no-welcome`, `timeout`, or a {@link HandshakeRefusedError} kind.
 * @typedef {'unreachable' | 'bad-protocol' | 'no-welcome' | 'timeout' | RefusalKind} ConnectErrorKind
 */
/**
 * Why the server refused the upgrade: `incompatible` (no shared token),
 * `wrong-app` (a different game), `forbidden` (HTTP 403: this page's origin
 * is not allowed), `too-many` (HTTP 429: too many connections from this
 * address or sessions of this user), `unavailable` (HTTP 503: full or
 * shutting down), `refused` (another refusal, or a browser, which does not
 * tell the status). HTTP 401 is an {@link AuthError} instead.
 * @typedef {'incompatible' | 'wrong-app' | 'forbidden' | 'too-many' | 'unavailable' | 'refused'} RefusalKind
 */
/**
 * The connection could not be set up: the server is unreachable, closed the
 * socket before `Welcome`, chose a subprotocol this client did not offer, or
 * did not answer in time. Base class of {@link HandshakeRefusedError}.
 */
export declare class ConnectError extends Error {
    /** What went wrong, for code; `message` is for people. @type {ConnectErrorKind} */
    kind: ConnectErrorKind;
    /**
     * @param {string} message  for people
     * @param {object} [details]
     * @param {ConnectErrorKind} [details.kind]
     * @param {unknown} [details.cause]
     */
    constructor(message: string, details?: {
        kind?: ConnectErrorKind;
        cause?: unknown;
    });
}
/**
 * The server answered but refused the WebSocket upgrade. `message` says why
 * in words a person can act on, e.g. `could not connect to ws://…/ws: this
 * client speaks arena v9 (arena.v9.proto), the server speaks arena v1–v2
 * (arena.v2.proto, …)`. `kind`: see {@link RefusalKind}; `status`: the
 * HTTP status where the WebSocket implementation tells it (Node's `ws`
 * does, browsers do not: null).
 */
export declare class HandshakeRefusedError extends ConnectError {
    /** @type {RefusalKind} */
    kind: RefusalKind;
    /** The HTTP status (403, 429, 503, …), or null when not known. */
    status: number | null;
    offered: string[];
    serverProtocols: string[];
    serverVersions: number[];
    serverApp: string;
    /**
     * @param {string} message
     * @param {object} details
     * @param {RefusalKind} details.kind
     * @param {number | null} [details.status]    the HTTP status, if known
     * @param {string[]} details.offered          the tokens this client offered
     * @param {string[]} details.serverProtocols  what the server speaks (`/info`)
     * @param {number[]} details.serverVersions
     * @param {string} details.serverApp
     */
    constructor(message: string, details: {
        kind: RefusalKind;
        status?: number | null;
        offered: string[];
        serverProtocols: string[];
        serverVersions: number[];
        serverApp: string;
    });
}
/**
 * A join (`join`, `joinOrCreate`, `create`) was refused by the server
 * (`JoinError` envelope). The connection stays open.
 */
export declare class JoinError extends Error {
    /** `JoinErrorCode` number, see {@link JoinErrorCode}. */
    code: number;
    /** The code's name, e.g. `ROOM_FULL`. */
    codeName: string;
    /** The server's text (the game's own words for `REJECTED`). */
    reason: string;
    /** The request id of the refused join. */
    request: number;
    /**
     * @param {{ request: number, code: number, reason: string }} e  the JoinError envelope
     */
    constructor(e: {
        request: number;
        code: number;
        reason: string;
    });
}
export type RedirectErrorKind = 'in-rooms' | 'busy' | 'reconnecting' | 'too-many';
/**
 * Why a {@link RedirectError}: `in-rooms`, the client is in rooms on this
 * node (moving its connection would leave them); `busy`, other joins are in
 * flight on this connection; `reconnecting`, the redirect came while the
 * client was reconnecting (e.g. to a rejoin); `too-many`, more than
 * {@link MAX_REDIRECTS} redirects for one join.
 * @typedef {'in-rooms' | 'busy' | 'reconnecting' | 'too-many'} RedirectErrorKind
 */
/** The most redirects one join follows (like the Rust client). */
export declare const MAX_REDIRECTS = 3;
/**
 * A join was answered with a cluster `Redirect` the client did not follow
 * (docs/protocol.md §4.3): the room lives on another node, at `url`, and a
 * seat is held there for a few seconds under `reservation`. Most often the
 * client is in rooms here (`kind` `in-rooms`): connect a second client to
 * `url` and `join(room)` there, or leave the rooms first.
 */
export declare class RedirectError extends Error {
    /** @type {RedirectErrorKind} */
    kind: RedirectErrorKind;
    /** The room id on the other node. */
    room: string;
    /** The other node's WebSocket URL. */
    url: string;
    /** The held seat, for a `join` there (valid a few seconds). */
    reservation: string;
    /** The request id of the join that was redirected. */
    request: number;
    /**
     * @param {RedirectErrorKind} kind
     * @param {{ request: number, room: string, url: string, reservation: string }} r  the Redirect envelope
     */
    constructor(kind: RedirectErrorKind, r: {
        request: number;
        room: string;
        url: string;
        reservation: string;
    });
}
/**
 * A request could not complete because the connection is closed or
 * dropped (`code`/`reason` of the close), or is reconnecting.
 */
export declare class ConnectionClosedError extends Error {
    code: number;
    reason: string;
    /**
     * @param {number} code
     * @param {string} reason
     * @param {string} [what]  what was interrupted
     */
    constructor(code: number, reason: string, what?: string);
}
/** A request got no answer in time (`timeoutMs` option, default 10 s). */
export declare class TimeoutError extends Error {
    /** @param {string} message */
    constructor(message: string);
}
/**
 * Authentication failed, or the credential ended: the server closed the
 * connection for it, refused the upgrade with HTTP 401, or the `auth.token`
 * function failed. `kind`:
 *
 * - `unauthorized`: the token was refused (close 4001, or HTTP 401 at the
 *   upgrade: then `status` is 401);
 * - `auth-timeout`: no `Auth` within the server's deadline (close 4002);
 * - `forbidden`: a refresh for another user, or too many sessions of the
 *   user (close 4003);
 * - `expired`: the credential expired without a refresh (close 1008);
 * - `token`: the `auth.token` function threw or returned no token.
 *
 * `fatal`: the client does not reconnect after it (all but `auth-timeout`
 * and `token`: a retry cannot fix them).
 */
export declare class AuthError extends Error {
    kind: "auth-timeout" | "expired" | "forbidden" | "token" | "unauthorized";
    /** The close code (0 for a refused upgrade or a token function failure). */
    code: number;
    /** The HTTP status of a refused upgrade (401), else 0. */
    status: number;
    reason: string;
    /** Whether the client stops rather than reconnecting. */
    fatal: boolean;
    /**
     * @param {'unauthorized' | 'auth-timeout' | 'forbidden' | 'expired' | 'token'} kind
     * @param {number} code  the close code (4001, 4002, 4003, 1008), or 0
     * @param {string} reason
     * @param {{ status?: number, cause?: unknown }} [details]
     */
    constructor(kind: 'unauthorized' | 'auth-timeout' | 'forbidden' | 'expired' | 'token', code: number, reason: string, details?: {
        status?: number;
        cause?: unknown;
    });
}
/**
 * `ChannelError.code` numbers (docs/protocol.md §4.4): 400 a malformed name or
 * pattern (or a publish to a pattern), 403 not allowed, 404 no configured
 * channel covers the name, 409 already subscribed, 429 too many
 * subscriptions or the publish queue is full, 503 the channel store cannot
 * be reached.
 */
export declare const ChannelErrorCode: Readonly<{
    BAD_NAME: 400;
    FORBIDDEN: 403;
    NOT_FOUND: 404;
    ALREADY_SUBSCRIBED: 409;
    TOO_MANY: 429;
    UNAVAILABLE: 503;
}>;
/**
 * A `subscribe` or `publish` was refused by the server (`ChannelError`
 * envelope): {@link Client#subscribe} rejects with it, and a refused
 * publish (or the SDK's own re-subscribe after a new session) is the
 * `channelError` event. The connection stays open.
 */
export declare class ChannelError extends Error {
    /** The code (400, 403, 404, 409, 429, 503), see {@link ChannelErrorCode}. */
    code: number;
    /** The server's text (for 403, the authorization hook's). */
    reason: string;
    /** The channel or pattern of the refused request. */
    channel: string;
    /** The request id of the refused subscribe or publish (what {@link Client#publish} returned). */
    request: number;
    /**
     * @param {{ request: number, channel: string, code: number, reason: string }} e  the ChannelError envelope
     */
    constructor(e: {
        request: number;
        channel: string;
        code: number;
        reason: string;
    });
}
export type DeltaErrorKind = 'truncated' | 'overflow' | 'too-large' | 'empty' | 'out-of-baseline' | 'length';
/**
 * How a delta is malformed (proto/src/delta.rs `DeltaError`): `truncated`,
 * it ends inside a varint or a literal; `overflow`, a varint over 64 bits,
 * or an operation or cursor position past 2^53 - 1 (JavaScript's exact
 * integers); `too-large`, the target is longer than allowed; `empty`, an
 * operation of length 0; `out-of-baseline`, a COPY past the baseline's end
 * or a BACK before its start; `length`, the operations make more or fewer
 * bytes than announced, or bytes follow the last one.
 * @typedef {'truncated' | 'overflow' | 'too-large' | 'empty' | 'out-of-baseline' | 'length'} DeltaErrorKind
 */
/**
 * A state delta could not be applied ({@link applyDelta}). The client
 * does not throw it: it drops that state, counts it
 * (`Client#stats.deltaFailures`) and asks the server for a whole state.
 */
export declare class DeltaError extends Error {
    /** @type {DeltaErrorKind} */
    kind: DeltaErrorKind;
    /**
     * @param {DeltaErrorKind} kind
     * @param {number} [length]  for `too-large`: the announced target length
     */
    constructor(kind: DeltaErrorKind, length?: number);
}
export type InflateErrorKind = 'corrupt' | 'too-large' | 'unknown';
/**
 * Why a compressed state payload did not inflate ({@link InflateError}):
 * `corrupt`, it is not raw DEFLATE (RFC 1951) or is cut short; `too-large`,
 * it inflates to more than the limit; `unknown`, `State.compression` names
 * a compression this client does not know.
 * @typedef {'corrupt' | 'too-large' | 'unknown'} InflateErrorKind
 */
/**
 * A compressed state payload (`State.compression`, docs/protocol.md §4.6)
 * could not be inflated ({@link inflateState}). The client does not throw
 * it: it drops that state like a delta that does not apply, counts it
 * (`Client#stats.inflateFailures`) and asks the server for a whole state.
 */
export declare class InflateError extends Error {
    /** @type {InflateErrorKind} */
    kind: InflateErrorKind;
    /**
     * @param {InflateErrorKind} kind
     * @param {string} detail  what the inflater said, the limit, or the compression number
     */
    constructor(kind: InflateErrorKind, detail: string);
}
