export type Core = import('./types.js').Core;
export type Conn = import('./types.js').Conn;
export type RedirectMsg = {
    request: number;
    room: string;
    url: string;
    reservation: string;
};
/** @typedef {import('./types.js').Core} Core */
/** @typedef {import('./types.js').Conn} Conn */
/**
 * @typedef {object} RedirectMsg  the Redirect envelope
 * @property {number} request
 * @property {string} room
 * @property {string} url
 * @property {string} reservation
 */
/**
 * A `Redirect` arrived on `conn`: follows it for the join of its
 * `request`, or rejects that join with a {@link RedirectError}.
 * @param {Pick<Core, 'link' | 'rooms' | 'requests' | 'dialer' | 'auth' | 'session' | 'emit'>} core
 * @param {Conn} conn
 * @param {RedirectMsg} m
 * @returns {Promise<void>}  never rejects: what fails, fails the join
 */
export declare function followRedirect(core: Pick<Core, 'link' | 'rooms' | 'requests' | 'dialer' | 'auth' | 'session' | 'emit'>, conn: Conn, m: RedirectMsg): Promise<void>;
export type Attempt = {
    conn: Conn;
};
/**
 * The reconnect attempt a resume redirect moves: the connection it is on
 * now (updated by {@link moveResume}).
 * @typedef {object} Attempt
 * @property {Conn} conn
 */
/**
 * A reconnect's `Resume` was redirected to `url`, the node that holds the
 * session: opens a connection there (the same tokens; with `auth`, the
 * token anew, and its `Auth` first), makes it the client's in place of
 * `attempt.conn` (closed normally: it carries only the fresh session of its
 * own Welcome, which nobody resumes), puts `url` in front of the failover
 * list ({@link import('./link.js').Link#moveTo}), emits `redirected`
 * (`kind: 'resume'`), and authenticates. The same `Resume` goes out next
 * (the caller). Throws when `url` is not a WebSocket URL, the node cannot
 * be reached, or authentication fails: the reconnect attempt fails.
 * @param {Pick<Core, 'link' | 'dialer' | 'auth' | 'session' | 'emit'>} core
 * @param {Attempt} attempt
 * @param {string} target  the Redirect's url
 * @returns {Promise<void>}
 */
export declare function moveResume({ link, dialer, auth, session, emit }: Pick<Core, 'link' | 'dialer' | 'auth' | 'session' | 'emit'>, attempt: Attempt, target: string): Promise<void>;
