export type Token = import('./tokens.js').Token;
export type GameTypes = import('./codec.js').GameTypes;
export type WebSocketLike = import('./types.js').WebSocketLike;
export type WebSocketConstructor = import('./types.js').WebSocketConstructor;
export type Conn = import('./types.js').Conn;
/** @typedef {import('./tokens.js').Token} Token */
/** @typedef {import('./codec.js').GameTypes} GameTypes */
/** @typedef {import('./types.js').WebSocketLike} WebSocketLike */
/** @typedef {import('./types.js').WebSocketConstructor} WebSocketConstructor */
/** @typedef {import('./types.js').Conn} Conn */
export declare const OPEN = 1;
/** The socket failed before the upgrade completed (refused or unreachable). */
export declare class FailedBeforeOpen extends Error {
    code: number;
    reason: string;
    detail: string;
    /**
     * @param {number} code
     * @param {string} reason
     * @param {string} detail
     */
    constructor(code: number, reason: string, detail: string);
}
/** @param {unknown} e @returns {string} */
export declare function errText(e: unknown): string;
/**
 * Closes normally (1000): the server ends the session (no resume).
 * @param {WebSocketLike} ws
 */
export declare function safeClose(ws: WebSocketLike): void;
/** Close code the client uses to drop a connection whose session it may still resume. */
export declare const CLOSE_ABANDONED = 4000;
/**
 * Closes a connection the client gives up on (e.g. a resume that got no
 * answer in time) with {@link CLOSE_ABANDONED}: any code but 1000 leaves
 * the session resumable on the server, so the next attempt can resume it.
 * @param {WebSocketLike} ws
 */
export declare function abandon(ws: WebSocketLike): void;
/**
 * Stops listening to a socket. Handlers become no-ops rather than null: the
 * `ws` package throws on an 'error' event nobody listens to.
 * @param {WebSocketLike} ws
 */
export declare function detach(ws: WebSocketLike): void;
/**
 * Opens one socket and waits for its Welcome. Frames and the close that
 * arrive after the Welcome go to `onFrame` / `onClose`.
 * @param {object} p
 * @param {string} p.url  the server URL (in messages and `Conn.url`)
 * @param {string} [p.dialUrl]  the URL dialled, when it differs (a `?token=`
 *   kept out of error messages); default `url`
 * @param {Token[]} p.tokens  offered, best first
 * @param {WebSocketConstructor} p.WS
 * @param {number} p.timeoutMs
 * @param {import('./codec.js').Schema | null} p.schema
 * @param {GameTypes} p.game
 * @param {(conn: Conn, bytes: Uint8Array) => void} p.onFrame
 * @param {(conn: Conn, code: number, reason: string) => void} p.onClose
 * @returns {Promise<Conn>}
 */
export declare function openSocket({ url, dialUrl, tokens, WS, timeoutMs, schema, game, onFrame, onClose }: {
    url: string;
    dialUrl?: string;
    tokens: Token[];
    WS: WebSocketConstructor;
    timeoutMs: number;
    schema: import('./codec.js').Schema | null;
    game: GameTypes;
    onFrame: (conn: Conn, bytes: Uint8Array) => void;
    onClose: (conn: Conn, code: number, reason: string) => void;
}): Promise<Conn>;
/**
 * Turns a failed upgrade into an error a person can act on, using `GET /info`.
 * @param {FailedBeforeOpen} failure
 * @param {object} p
 * @param {string} p.url
 * @param {Token[]} p.tokens
 * @param {number} p.timeoutMs
 * @param {((url: string, init?: any) => Promise<any>) | undefined} p.fetchFn
 * @param {number | null} [p.status]  the HTTP status, when the socket told it
 * @param {boolean} [p.sentToken]  a `?token=` was on the URL
 * @returns {Promise<Error>}
 */
export declare function explain(failure: FailedBeforeOpen, { url, tokens, timeoutMs, fetchFn, status, sentToken }: {
    url: string;
    tokens: Token[];
    timeoutMs: number;
    fetchFn: ((url: string, init?: any) => Promise<any>) | undefined;
    status?: number | null;
    sentToken?: boolean;
}): Promise<Error>;
