export type Conn = import('./types.js').Conn;
export type Token = import('./tokens.js').Token;
export type GameTypes = import('./codec.js').GameTypes;
export type WebSocketConstructor = import('./types.js').WebSocketConstructor;
export type DialerOptions = {
    /**
     * offered, best first
     */
    tokens: Token[];
    schema: import('./codec.js').Schema | null;
    game: GameTypes;
    WS: WebSocketConstructor;
    timeoutMs: number;
    /**
     * for `GET /info`
     */
    fetch: ((url: string, init?: any) => Promise<any>) | undefined;
    /**
     * where a token goes (null: no auth)
     */
    authMode: () => 'query' | 'message' | null;
    /**
     * ask for compressed states (`compress=deflate` on every URL dialled)
     */
    compression: boolean;
    /**
     * a frame after the Welcome
     */
    onFrame: (conn: Conn, bytes: Uint8Array) => void;
    /**
     * a close after the Welcome
     */
    onClose: (conn: Conn, code: number, reason: string) => void;
};
/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {import('./tokens.js').Token} Token */
/** @typedef {import('./codec.js').GameTypes} GameTypes */
/** @typedef {import('./types.js').WebSocketConstructor} WebSocketConstructor */
/**
 * What a dialer is built with.
 * @typedef {object} DialerOptions
 * @property {Token[]} tokens  offered, best first
 * @property {import('./codec.js').Schema | null} schema
 * @property {GameTypes} game
 * @property {WebSocketConstructor} WS
 * @property {number} timeoutMs
 * @property {((url: string, init?: any) => Promise<any>) | undefined} fetch  for `GET /info`
 * @property {() => 'query' | 'message' | null} authMode  where a token goes (null: no auth)
 * @property {boolean} compression  ask for compressed states (`compress=deflate` on every URL dialled)
 * @property {(conn: Conn, bytes: Uint8Array) => void} onFrame  a frame after the Welcome
 * @property {(conn: Conn, code: number, reason: string) => void} onClose  a close after the Welcome
 */
/** Opens sockets to the servers, every one the same way. */
export declare class Dialer {
    /** @private */
    private _o;
    /** @param {DialerOptions} options */
    constructor(options: DialerOptions);
    /**
     * Opens one socket to `url` and waits for its Welcome. With `token`, the
     * connection awaits its `Auth` (nothing else goes out before it); in auth
     * mode `query` the URL carries the token as well, and the `Auth` (the same
     * token: a refresh to the server) tells the client its user and expiry.
     * With `compression`, the URL asks for compressed states: every
     * connection asks on its own (the first, each reconnect, a redirect's
     * and a resume's move to another node), and `url` stays as given (in
     * `Conn.url`, `Client#url` and messages).
     * @param {string} url
     * @param {string} [token='']
     * @returns {Promise<Conn>}
     */
    open(url: string, token?: string): Promise<Conn>;
    /**
     * {@link Dialer#open}, with a refusal explained (HTTP 401: an
     * {@link AuthError}; otherwise what `GET /info` tells).
     * @param {string} url
     * @param {string} token  the credential ('' for none)
     * @returns {Promise<Conn>}
     */
    connect(url: string, token: string): Promise<Conn>;
}
/**
 * The first connect ({@link Client.connect}): each URL once, in order. The
 * first that answers with a `Welcome` (and accepts the credential) is used;
 * when none does, the error of the first is thrown, its message naming what
 * the others answered. An auth failure another server of the deployment
 * would repeat is thrown at once.
 * @param {Pick<import('./types.js').Core, 'link' | 'dialer' | 'session' | 'auth'>} core
 * @returns {Promise<void>}
 */
export declare function connectFirst({ link, dialer, session, auth }: Pick<import('./types.js').Core, 'link' | 'dialer' | 'session' | 'auth'>): Promise<void>;
