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
