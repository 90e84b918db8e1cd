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
});

/**
 * The connection could not be set up: the server is unreachable, closed the
 * socket before `Welcome`, chose a subprotocol this client did not offer, or
 * did not answer in time. Base class of {@link HandshakeRefusedError}.
 */
export class ConnectError extends Error {
  /**
   * @param {string} message  for people
   * @param {object} [details]
   * @param {'unreachable' | 'bad-protocol' | 'no-welcome' | 'timeout' | 'incompatible' | 'wrong-app' | 'refused'} [details.kind]
   * @param {unknown} [details.cause]
   */
  constructor(message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ConnectError';
    /** What went wrong, for code; `message` is for people. */
    this.kind = details.kind ?? 'unreachable';
  }
}

/**
 * The server answered but refused the WebSocket upgrade. `message` says why
 * in words a person can act on, e.g. `could not connect to ws://…/ws: this
 * client speaks arena v9 (arena.v9.proto), the server speaks arena v1–v2
 * (arena.v2.proto, …)`. `kind`: `incompatible` (no shared token),
 * `wrong-app` (a different game), `refused` (a shared token exists: the
 * server is full or a proxy blocked the upgrade).
 */
export class HandshakeRefusedError extends ConnectError {
  /**
   * @param {string} message
   * @param {object} details
   * @param {'incompatible' | 'wrong-app' | 'refused'} details.kind
   * @param {string[]} details.offered          the tokens this client offered
   * @param {string[]} details.serverProtocols  what the server speaks (`/info`)
   * @param {number[]} details.serverVersions
   * @param {string} details.serverApp
   */
  constructor(message, details) {
    super(message, { kind: details.kind });
    this.name = 'HandshakeRefusedError';
    /** @type {'incompatible' | 'wrong-app' | 'refused'} */
    this.kind = details.kind;
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
