// Errors thrown (as rejected promises) by the client.

/**
 * `JoinErrorCode` numbers → names (envelope.proto; docs/protocol.md §4.2).
 * @type {Readonly<Record<number, string>>}
 */
export const JOIN_ERROR_NAMES = Object.freeze({
  0: 'JOIN_ERROR_UNSPECIFIED',
  1: 'ROOM_NOT_FOUND',
  2: 'ROOM_FULL',
  3: 'ROOM_LOCKED',
  4: 'REJECTED',
  5: 'UNKNOWN_ROOM_TYPE',
  6: 'ALREADY_JOINED',
  7: 'TOO_MANY_ROOMS',
  8: 'INTERNAL',
  9: 'FORBIDDEN',
  10: 'ROOM_LIMIT',
  11: 'CREATE_RATE_LIMITED',
});

/** `JoinErrorCode` names → numbers, e.g. `JoinErrorCode.ROOM_NOT_FOUND === 1`. */
export const JoinErrorCode = Object.freeze({
  JOIN_ERROR_UNSPECIFIED: 0,
  ROOM_NOT_FOUND: 1,
  ROOM_FULL: 2,
  ROOM_LOCKED: 3,
  REJECTED: 4,
  UNKNOWN_ROOM_TYPE: 5,
  ALREADY_JOINED: 6,
  TOO_MANY_ROOMS: 7,
  INTERNAL: 8,
  FORBIDDEN: 9,
  ROOM_LIMIT: 10,
  CREATE_RATE_LIMITED: 11,
});

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
export class ConnectError extends Error {
  /**
   * @param {string} message  for people
   * @param {object} [details]
   * @param {ConnectErrorKind} [details.kind]
   * @param {unknown} [details.cause]
   */
  constructor(message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ConnectError';
    /** What went wrong, for code; `message` is for people. @type {ConnectErrorKind} */
    this.kind = details.kind ?? 'unreachable';
  }
}

/**
 * The server answered but refused the WebSocket upgrade. `message` says why
 * in words a person can act on, e.g. `could not connect to ws://…/ws: this
 * client speaks arena v9 (arena.v9.proto), the server speaks arena v1–v2
 * (arena.v2.proto, …)`. `kind`: see {@link RefusalKind}; `status`: the
 * HTTP status where the WebSocket implementation tells it (Node's `ws`
 * does, browsers do not: null).
 */
export class HandshakeRefusedError extends ConnectError {
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
  constructor(message, details) {
    super(message, { kind: details.kind });
    this.name = 'HandshakeRefusedError';
    /** @type {RefusalKind} */
    this.kind = details.kind;
    /** The HTTP status (403, 429, 503, …), or null when not known. */
    this.status = details.status ?? null;
    this.offered = details.offered;
    this.serverProtocols = details.serverProtocols;
    this.serverVersions = details.serverVersions;
    this.serverApp = details.serverApp;
  }
}

/**
 * A join (`join`, `joinOrCreate`, `create`) was refused by the server
 * (`JoinError` envelope). The connection stays open.
 */
export class JoinError extends Error {
  /**
   * @param {{ request: number, code: number, reason: string }} e  the JoinError envelope
   */
  constructor(e) {
    const name = JOIN_ERROR_NAMES[e.code] ?? `code ${e.code}`;
    super(`join refused: ${name}${e.reason ? `: ${e.reason}` : ''}`);
    this.name = 'JoinError';
    /** `JoinErrorCode` number, see {@link JoinErrorCode}. */
    this.code = e.code;
    /** The code's name, e.g. `ROOM_FULL`. */
    this.codeName = name;
    /** The server's text (the game's own words for `REJECTED`). */
    this.reason = e.reason;
    /** The request id of the refused join. */
    this.request = e.request;
  }
}

/**
 * Why a {@link RedirectError}: `in-rooms`, the client is in rooms on this
 * node (moving its connection would leave them); `busy`, other joins are in
 * flight on this connection; `reconnecting`, the redirect came while the
 * client was reconnecting (e.g. to a rejoin); `too-many`, more than
 * {@link MAX_REDIRECTS} redirects for one join.
 * @typedef {'in-rooms' | 'busy' | 'reconnecting' | 'too-many'} RedirectErrorKind
 */

/** The most redirects one join follows (like the Rust client). */
export const MAX_REDIRECTS = 3;

/**
 * A join was answered with a cluster `Redirect` the client did not follow
 * (docs/protocol.md §4.3): the room lives on another node, at `url`, and a
 * seat is held there for a few seconds under `reservation`. Most often the
 * client is in rooms here (`kind` `in-rooms`): connect a second client to
 * `url` and `join(room)` there, or leave the rooms first.
 */
export class RedirectError extends Error {
  /**
   * @param {RedirectErrorKind} kind
   * @param {{ request: number, room: string, url: string, reservation: string }} r  the Redirect envelope
   */
  constructor(kind, r) {
    const why = {
      'in-rooms': 'this client is in rooms here and stays for them',
      busy: 'other joins are in flight on this connection',
      reconnecting: 'the client is reconnecting',
      'too-many': `more than ${MAX_REDIRECTS} redirects for one join`,
    }[kind];
    super(`playhouse-client: room ${r.room} lives on another node (${r.url}); not following: ${why}`);
    this.name = 'RedirectError';
    /** @type {RedirectErrorKind} */
    this.kind = kind;
    /** The room id on the other node. */
    this.room = String(r.room ?? '');
    /** The other node's WebSocket URL. */
    this.url = String(r.url ?? '');
    /** The held seat, for a `join` there (valid a few seconds). */
    this.reservation = String(r.reservation ?? '');
    /** The request id of the join that was redirected. */
    this.request = r.request;
  }
}

/**
 * A request could not complete because the connection is closed or
 * dropped (`code`/`reason` of the close), or is reconnecting.
 */
export class ConnectionClosedError extends Error {
  /**
   * @param {number} code
   * @param {string} reason
   * @param {string} [what]  what was interrupted
   */
  constructor(code, reason, what = 'request') {
    super(`${what} failed: connection closed (${code}${reason ? ` ${reason}` : ''})`);
    this.name = 'ConnectionClosedError';
    this.code = code;
    this.reason = reason;
  }
}

/** A request got no answer in time (`timeoutMs` option, default 10 s). */
export class TimeoutError extends Error {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'TimeoutError';
  }
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
export class AuthError extends Error {
  /**
   * @param {'unauthorized' | 'auth-timeout' | 'forbidden' | 'expired' | 'token'} kind
   * @param {number} code  the close code (4001, 4002, 4003, 1008), or 0
   * @param {string} reason
   * @param {{ status?: number, cause?: unknown }} [details]
   */
  constructor(kind, code, reason, details = {}) {
    super(`playhouse-client: authentication: ${reason}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'AuthError';
    this.kind = kind;
    /** The close code (0 for a refused upgrade or a token function failure). */
    this.code = code;
    /** The HTTP status of a refused upgrade (401), else 0. */
    this.status = details.status ?? 0;
    this.reason = reason;
    /** Whether the client stops rather than reconnecting. */
    this.fatal = kind !== 'auth-timeout' && kind !== 'token';
  }
}

/**
 * `ChannelError.code` numbers (docs/protocol.md §4.4): 400 a malformed name or
 * pattern (or a publish to a pattern), 403 not allowed, 404 no configured
 * channel covers the name, 409 already subscribed, 429 too many
 * subscriptions or the publish queue is full, 503 the channel store cannot
 * be reached.
 */
export const ChannelErrorCode = Object.freeze({
  BAD_NAME: 400,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  ALREADY_SUBSCRIBED: 409,
  TOO_MANY: 429,
  UNAVAILABLE: 503,
});

/**
 * A `subscribe` or `publish` was refused by the server (`ChannelError`
 * envelope): {@link Client#subscribe} rejects with it, and a refused
 * publish (or the SDK's own re-subscribe after a new session) is the
 * `channelError` event. The connection stays open.
 */
export class ChannelError extends Error {
  /**
   * @param {{ request: number, channel: string, code: number, reason: string }} e  the ChannelError envelope
   */
  constructor(e) {
    super(`channel ${e.channel || '?'} refused: ${e.code}${e.reason ? `: ${e.reason}` : ''}`);
    this.name = 'ChannelError';
    /** The code (400, 403, 404, 409, 429, 503), see {@link ChannelErrorCode}. */
    this.code = e.code;
    /** The server's text (for 403, the authorization hook's). */
    this.reason = e.reason;
    /** The channel or pattern of the refused request. */
    this.channel = e.channel;
    /** The request id of the refused subscribe or publish (what {@link Client#publish} returned). */
    this.request = e.request;
  }
}

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
export class DeltaError extends Error {
  /**
   * @param {DeltaErrorKind} kind
   * @param {number} [length]  for `too-large`: the announced target length
   */
  constructor(kind, length) {
    const what = {
      truncated: 'delta truncated',
      overflow: 'delta varint overflows',
      'too-large': `delta target of ${length} bytes exceeds the limit`,
      empty: 'delta operation of length 0',
      'out-of-baseline': 'delta reads outside the baseline',
      length: 'delta does not match its announced length',
    }[kind];
    super(`playhouse-client: ${what}`);
    this.name = 'DeltaError';
    /** @type {DeltaErrorKind} */
    this.kind = kind;
  }
}

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
export class InflateError extends Error {
  /**
   * @param {InflateErrorKind} kind
   * @param {string} detail  what the inflater said, the limit, or the compression number
   */
  constructor(kind, detail) {
    const what = {
      corrupt: `compressed payload is corrupt: ${detail}`,
      'too-large': `compressed payload inflates past ${detail} bytes`,
      unknown: `unknown compression ${detail}`,
    }[kind];
    super(`playhouse-client: ${what}`);
    this.name = 'InflateError';
    /** @type {InflateErrorKind} */
    this.kind = kind;
  }
}
