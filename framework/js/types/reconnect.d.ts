export type Core = import('./types.js').Core;
export type Conn = import('./types.js').Conn;
export type ReconnectedEvent = import('./types.js').ReconnectedEvent;
/** @typedef {import('./types.js').Core} Core */
/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {import('./types.js').ReconnectedEvent} ReconnectedEvent */
/** The wait between reconnect attempts, which close() cuts short. */
export declare class Sleeper {
    /** @private @type {ReturnType<typeof setTimeout> | null} */
    private _timer;
    /** @private @type {(() => void) | null} */
    private _wake;
    constructor();
    /**
     * @param {number} ms
     * @returns {Promise<void>} resolves after `ms`, or at once on {@link Sleeper#wake}
     */
    sleep(ms: number): Promise<void>;
    /** Ends the current wait now (the client is closing). */
    wake(): void;
}
/**
 * A socket that had its Welcome closed.
 * @param {Core} core
 * @param {Conn} conn
 * @param {number} code
 * @param {string} reason
 */
export declare function onSocketClose(core: Core, conn: Conn, code: number, reason: string): void;
/**
 * The reconnect loop, started by an abnormal close of an open connection.
 *
 * Attempt n (from 1) waits the backoff (plus the server's Shutdown hint on
 * the first), then connects to URL number (i + n − 1) mod len, where i is
 * the index of the lost connection's URL: the first attempt goes back to the
 * server that holds the session, each failed attempt moves on to the next
 * URL. A `Shutdown` notice that named a URL (a draining cluster node handed
 * the session there) puts that URL in front of the list first (i = 0), so
 * the first attempt resumes there, with the same token, before the
 * configured URLs are tried. On a cluster, a node that does not hold the session redirects the
 * resume to the one that does: the attempt follows (rejoin.js), that node
 * goes in front of the list, and a failure there moves on to the URL after
 * it. On the new connection the session is resumed when it can be;
 * otherwise (refused, or resume off) a new session begins and the rooms are
 * rejoined. With the `auth` option each attempt takes the token anew (a
 * function is called again) and, in `message` mode, authenticates first,
 * before the `Resume`. An auth failure a retry cannot fix (HTTP 401 or 403,
 * close 4001, 4003, 1008: {@link AuthError#fatal}) ends the loop: the
 * client closes with it rather than retrying.
 * @param {Core} core
 * @param {number} code
 * @param {string} reason
 */
export declare function reconnectLoop(core: Core, code: number, reason: string): Promise<void>;
