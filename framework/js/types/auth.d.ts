import { AuthError } from './errors.js';
export type Conn = import('./types.js').Conn;
export type AuthInfo = import('./types.js').AuthInfo;
export type Emit = import('./types.js').Emit;
export type Pending = import('./types.js').Pending;
export type AuthOptions = {
    /**
     * the credential (a JWT),
     * or a function that gets a fresh one; a function is called again for every
     * connection (reconnects included) and for automatic refreshes
     */
    token: string | (() => string | Promise<string>);
    /**
     * `'message'`: an `Auth` message,
     * the first after `Welcome` (keeps the token out of URLs and access logs; the
     * server must run first-message auth, or accept a refresh by message);
     * `'query'`: `?token=` on the URL, for servers that check at the upgrade
     * (browsers cannot set an `Authorization` header on a WebSocket)
     */
    mode?: 'query' | 'message';
    /**
     * when `token` is a function: call it and send
     * a fresh `Auth` before the credential expires (`Authenticated.expiresAt`)
     */
    autoRefresh?: boolean;
    /**
     * how long before the expiry to refresh
     * (at most half of the credential's remaining life)
     */
    refreshBeforeMs?: number;
};
export type AuthPolicy = {
    token: string | (() => string | Promise<string>);
    mode: 'query' | 'message';
    autoRefresh: boolean;
    refreshBeforeMs: number;
};
/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {import('./types.js').AuthInfo} AuthInfo */
/** @typedef {import('./types.js').Emit} Emit */
/** @typedef {import('./types.js').Pending} Pending */
/**
 * The `auth` option of {@link import('./client.js').Client.connect}.
 * @typedef {object} AuthOptions
 * @property {string | (() => string | Promise<string>)} token  the credential (a JWT),
 *   or a function that gets a fresh one; a function is called again for every
 *   connection (reconnects included) and for automatic refreshes
 * @property {'query' | 'message'} [mode='message']  `'message'`: an `Auth` message,
 *   the first after `Welcome` (keeps the token out of URLs and access logs; the
 *   server must run first-message auth, or accept a refresh by message);
 *   `'query'`: `?token=` on the URL, for servers that check at the upgrade
 *   (browsers cannot set an `Authorization` header on a WebSocket)
 * @property {boolean} [autoRefresh=true]  when `token` is a function: call it and send
 *   a fresh `Auth` before the credential expires (`Authenticated.expiresAt`)
 * @property {number} [refreshBeforeMs=30000]  how long before the expiry to refresh
 *   (at most half of the credential's remaining life)
 */
/**
 * @typedef {object} AuthPolicy
 * @property {string | (() => string | Promise<string>)} token
 * @property {'query' | 'message'} mode
 * @property {boolean} autoRefresh
 * @property {number} refreshBeforeMs
 */
/** Close code: the credential was refused or is missing (first `Auth`). */
export declare const CLOSE_UNAUTHORIZED = 4001;
/** Close code: no `Auth` within the server's deadline (first-message auth). */
export declare const CLOSE_AUTH_TIMEOUT = 4002;
/** Close code: forbidden (a refresh for another user; too many sessions of the user). */
export declare const CLOSE_FORBIDDEN = 4003;
/** Close code: policy; with auth, the credential expired without a refresh. */
export declare const CLOSE_POLICY = 1008;
/**
 * Normalises the `auth` option (null: no client-side auth).
 * @param {AuthOptions | undefined | null} opt
 * @returns {AuthPolicy | null}
 * @throws {TypeError} on a bad option
 */
export declare function authPolicy(opt: AuthOptions | undefined | null): AuthPolicy | null;
/**
 * The token to use now: the string, or what the function returns.
 * @param {AuthPolicy} policy
 * @returns {Promise<string>}
 * @throws {AuthError} kind `token` when the function fails or returns no string
 */
export declare function currentToken(policy: AuthPolicy): Promise<string>;
/**
 * `url` with `?token=` set (other parameters kept).
 * @param {string} url
 * @param {string} token
 * @returns {string}
 */
export declare function withToken(url: string, token: string): string;
/**
 * The HTTP status of a refused upgrade, when the WebSocket implementation
 * tells it (Node's `ws`: "Unexpected server response: 401"); browsers do not.
 * @param {string} detail  the socket's error text
 * @returns {number | null}
 */
export declare function refusalStatus(detail: string): number | null;
/**
 * What an auth-related close means, or null when it is not one.
 *
 * - 4001: the credential was refused (`unauthorized`);
 * - 4002 while an `Auth` was expected (`auth-timeout`; 4002 is not used
 *   otherwise, but the reason or the mode says it was the auth deadline);
 * - 4003 (`forbidden`): a refresh for another user, or too many sessions;
 * - 1008 when the credential expired (`expired`): the server says so in the
 *   reason, or its known expiry has passed. Other 1008s (idle timeout, rate
 *   limit) are not auth errors.
 * @param {number} code
 * @param {string} reason
 * @param {{ expiresAt?: number, expectAuth?: boolean, now?: number }} [ctx]
 *   `expiresAt`: the credential's expiry (ms since the epoch, 0: none);
 *   `expectAuth`: an `Auth` was due on this connection
 * @returns {AuthError | null}
 */
export declare function authCloseError(code: number, reason: string, ctx?: {
    expiresAt?: number;
    expectAuth?: boolean;
    now?: number;
}): AuthError | null;
/**
 * When to refresh a credential that expires at `expiresAt`: `refreshBeforeMs`
 * ahead, but no earlier than halfway through the time left.
 * @param {number} expiresAt  ms since the epoch (0: never: no refresh)
 * @param {number} now
 * @param {number} refreshBeforeMs
 * @returns {number | null} the delay in ms, or null for none
 */
export declare function refreshDelay(expiresAt: number, now: number, refreshBeforeMs: number): number | null;
export type AuthIo = {
    timeoutMs: number;
    /**
     * sends a ClientMsg; false when not connected
     */
    send: (msg: object) => boolean;
    /**
     * whether requests may go out now
     */
    isOpen: () => boolean;
    /**
     * the client's status (`'open'`, …)
     */
    status: () => string;
    emit: Emit;
};
/**
 * What the authenticator needs from the client.
 * @typedef {object} AuthIo
 * @property {number} timeoutMs
 * @property {(msg: object) => boolean} send  sends a ClientMsg; false when not connected
 * @property {() => boolean} isOpen  whether requests may go out now
 * @property {() => string} status  the client's status (`'open'`, …)
 * @property {Emit} emit
 */
/**
 * The client's credential: the `auth` option, the last `Authenticated`, the
 * `Auth` requests waiting for theirs, and the automatic refresh.
 */
export declare class Authenticator {
    /** @private */
    private _policy;
    /** @private */
    private _io;
    /** @private @type {AuthInfo | null} the last `Authenticated` */
    private _info;
    /** @private @type {Pending[]} Auth requests waiting for `Authenticated`, oldest first */
    private _pending;
    /** @private @type {ReturnType<typeof setTimeout> | null} the automatic refresh */
    private _refreshTimer;
    /**
     * @param {AuthPolicy | null} policy  null: no client-side auth (every method is then a no-op
     *   or refuses)
     * @param {AuthIo} io
     */
    constructor(policy: AuthPolicy | null, io: AuthIo);
    /** Whether the client authenticates (the `auth` option was given). */
    get enabled(): boolean;
    /** Where the token goes: `'query'` or `'message'`, or null without auth. */
    get mode(): "message" | "query" | null;
    /** The last `Authenticated`, or null before any. */
    get info(): import("./types.js").AuthInfo | null;
    /**
     * The token to use now (a function is called).
     * @returns {Promise<string>}
     * @throws {AuthError} kind `token` when the function fails; TypeError without auth
     */
    token(): Promise<string>;
    /**
     * Sends `Auth{token}` on the attached connection and resolves with the
     * server's `Authenticated` (answers come in order: the oldest waiting
     * request takes the next one). Rejects with {@link AuthError} when the
     * server closes for it, {@link ConnectionClosedError} on another close, and
     * `TimeoutError` after `timeoutMs`.
     * @param {string} token
     * @returns {Promise<AuthInfo>}
     */
    send(token: string): Promise<AuthInfo>;
    /**
     * {@link Client#refreshToken}: sends a fresh credential on the open
     * connection (`token`, or the `auth.token` option's) and resolves with the
     * server's `Authenticated`. A `token` given here also replaces a string
     * `auth.token`, so later reconnects use it.
     * @param {string} [token]
     * @returns {Promise<AuthInfo>}
     */
    refresh(token?: string): Promise<AuthInfo>;
    /**
     * `Authenticated` arrived on `conn`: the connection may carry everything
     * now; the waiting request resolves, `authenticated` is emitted and the
     * next automatic refresh is planned.
     * @param {Conn} conn
     * @param {{ user?: unknown, expiresAt?: unknown }} m
     */
    onAuthenticated(conn: Conn, m: {
        user?: unknown;
        expiresAt?: unknown;
    }): void;
    /**
     * Plans the automatic refresh of the current credential (a token function
     * and `autoRefresh`), replacing any planned one. A refresh that fails is
     * reported as `authError` and tried again halfway to the expiry.
     * @private
     */
    private _scheduleRefresh;
    /** Drops the planned automatic refresh (the connection is gone). */
    cancelRefresh(): void;
    /**
     * Rejects every `Auth` waiting for its answer.
     * @param {Error} e
     */
    failPending(e: Error): void;
}
