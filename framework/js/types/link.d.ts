export type Conn = import('./types.js').Conn;
export type Status = 'connecting' | 'open' | 'reconnecting' | 'closed';
/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {'connecting' | 'open' | 'reconnecting' | 'closed'} Status */
export declare class Link {
    /** Called with each socket made the client's (for its Welcome). @type {((conn: Conn) => void) | null} */
    onAttach: ((conn: Conn) => void) | null;
    /** The server URLs given to `connect`, in order. @type {readonly string[]} */
    configured: readonly string[];
    /**
     * The server URLs, in failover order: `configured`, with the node a
     * redirect moved the client to, or a draining node handed its session
     * to, in front (see {@link Link#putFirst}).
     * @type {readonly string[]}
     */
    urls: readonly string[];
    /** @type {Status} */
    status: Status;
    /** The server's Shutdown hint for the next reconnect, ms (0: none). */
    shutdownHintMs: number;
    /**
     * The node a draining cluster node handed the session to
     * (`Shutdown.url`): the next reconnect tries it first ('': none).
     */
    shutdownUrl: string;
    /** @private */
    private _urlIndex;
    /** @private @type {Conn | null} */
    private _conn;
    /** @private @type {Conn | null} */
    private _last;
    /** @private */
    private _closeRequested;
    /** A redirect is moving the client to another node: no requests go out meanwhile. */
    moving: boolean;
    /** @private @type {() => void} */
    private _resolveClosed;
    /** @private @type {Promise<void>} */
    private _closed;
    /** @param {string[]} urls  the server URLs, in failover order (checked) */
    constructor(urls: string[]);
    /** Index in `urls` of the current (or last) connection's URL. */
    get urlIndex(): number;
    /** The URL of the current (or last) connection. */
    get url(): string;
    /** The attached socket, or null. */
    get conn(): import("./types.js").Conn | null;
    /** The last socket that got a Welcome (for the protocol and the Welcome), or null. */
    get last(): import("./types.js").Conn | null;
    /**
     * Makes `conn` the socket the client uses.
     * @param {Conn} conn
     * @param {number} urlIndex  index of `conn.url` in `urls`
     */
    attach(conn: Conn, urlIndex: number): void;
    /**
     * Makes `url`, the node that holds the session (and its rooms), the first
     * of the failover list: `url`, then the configured URLs (without `url`).
     * So a reconnect goes there first, and only then to the configured URLs;
     * a later call replaces the node in front (the list never grows past one
     * URL more than configured). The current (or last) connection's URL
     * keeps its meaning while it is still in the list.
     * @param {string} url
     */
    putFirst(url: string): void;
    /**
     * Makes `conn`, a connection to `url` that a redirect moved the client
     * to, the socket the client uses, and `url` the first of the failover
     * list ({@link Link#putFirst}).
     * @param {Conn} conn
     * @param {string} url
     */
    moveTo(conn: Conn, url: string): void;
    /**
     * Detaches `conn` if it is the attached socket.
     * @param {Conn} conn
     * @returns {boolean} whether it was
     */
    release(conn: Conn): boolean;
    /**
     * Detaches whatever socket is attached.
     * @returns {Conn | null} it
     */
    take(): Conn | null;
    /**
     * Whether requests may go out: connected, and authenticated if due.
     * @returns {boolean}
     */
    isOpen(): boolean;
    /**
     * Encodes and sends one ClientMsg on the attached socket.
     * @param {object} msg
     * @returns {boolean} false when not connected (nothing sent)
     */
    send(msg: object): boolean;
    /** The app called `close()`: no more reconnects. */
    requestClose(): void;
    /** Whether the app called `close()`. */
    get closeRequested(): boolean;
    /** @returns {boolean} whether close() was called or the client is closed */
    stopped(): boolean;
    /** Resolves once the client is closed for good. */
    get closed(): Promise<void>;
    /** The client is closed for good: `closed` resolves. */
    markClosed(): void;
}
