export type CodecName = 'proto' | 'msgpack';
export type Token = {
    /**
     * the token as written, e.g. `arena.v2.proto`
     */
    token: string;
    /**
     * `arena`
     */
    app: string;
    /**
     * `2`
     */
    version: number;
    /**
     * `proto`
     */
    codec: CodecName;
};
/**
 * Parses a token such as `arena.v2.proto` (grammar: docs/protocol.md §2.1:
 * lowercase `[a-z0-9_-]+` app, canonical decimal version 1..2^32-1, codec
 * `proto` or `msgpack`).
 *
 * @param {string} token
 * @returns {Token | null} null when the token does not parse
 */
export declare function parseToken(token: string): Token | null;
/**
 * Checks the `tokens` option of {@link Client.connect}: a non-empty array of
 * valid, distinct tokens (a browser's `new WebSocket` throws on duplicates).
 *
 * @param {unknown} tokens
 * @returns {Token[]} the parsed tokens, in the given order
 * @throws {TypeError} naming the offending token
 */
export declare function parseTokens(tokens: unknown): Token[];
/**
 * Writes a set of versions compactly: `v2`, `v1–v3`, `v1, v3–v4`.
 *
 * @param {Iterable<number>} versions
 * @returns {string}
 */
export declare function formatVersions(versions: Iterable<number>): string;
export type ServerInfo = {
    app: string;
    /**
     * tokens in the server's preference order
     */
    protocols: string[];
    versions: number[];
};
/**
 * What `GET /info` answers (docs/protocol.md §2.4); only the fields the
 * client reads.
 * @typedef {object} ServerInfo
 * @property {string} app
 * @property {string[]} protocols  tokens in the server's preference order
 * @property {number[]} versions
 */
/**
 * Why a handshake failed, in words a person can act on. Pure: used by
 * {@link Client.connect} after a failed upgrade, with the server's `/info`
 * (or null when `/info` could not be fetched either).
 *
 * @param {object} args
 * @param {string} args.url             the WebSocket URL
 * @param {string[]} args.offered       the tokens this client offered
 * @param {ServerInfo | null} args.info the server's `/info`, or null
 * @param {string} [args.infoUrl]       where `/info` was fetched
 * @param {string} [args.infoError]     why `/info` failed, if it did
 * @returns {{ kind: 'unreachable' | 'incompatible' | 'wrong-app' | 'refused', message: string }}
 */
export declare function explainRefusal({ url, offered, info, infoUrl, infoError }: {
    url: string;
    offered: string[];
    info: ServerInfo | null;
    infoUrl?: string;
    infoError?: string;
}): {
    kind: 'unreachable' | 'incompatible' | 'wrong-app' | 'refused';
    message: string;
};
/**
 * The `/info` URL for a WebSocket URL: same host, `http`/`https` for
 * `ws`/`wss`; a path ending in `/ws` has that segment replaced by `/info`
 * (so a server mounted under a prefix works), any other path becomes `/info`.
 *
 * @param {string} wsUrl
 * @returns {string}
 */
export declare function infoUrlFor(wsUrl: string): string;
