/** The query parameter that asks for compression at the handshake. */
export declare const COMPRESS_PARAM = "compress";
/** The compression this client asks for and inflates: raw DEFLATE. */
export declare const DEFLATE = "deflate";
/** `State.compression` of a raw DEFLATE payload (0: none). */
export declare const COMPRESSION_DEFLATE = 1;
/**
 * The most bytes a compressed payload may inflate to, as the Rust client
 * takes (`MAX_STATE` in framework/client/src/deltas.rs): far above any state
 * a room sends tens of times a second, low enough that a broken or hostile
 * payload cannot make the client allocate much more.
 */
export declare const MAX_INFLATED_BYTES: number;
/**
 * `url` asking for compression: `compress=deflate` appended to its query
 * (`?` or `&`), as `Compression::ask` does in Rust. A URL that asks for a
 * compression already is left as it is.
 * @param {string} url  a ws:// or wss:// URL (WebSocket URLs have no fragment)
 * @returns {string}
 */
export declare function withCompression(url: string): string;
/**
 * The compression a `Welcome` says the server applies on its connection:
 * `'deflate'`, or null (none, or a server that does not compress).
 * @param {{ compression?: unknown } | null | undefined} welcome
 * @returns {'deflate' | null}
 */
export declare function welcomeCompression(welcome: {
    compression?: unknown;
} | null | undefined): 'deflate' | null;
/**
 * The payload of a `State` whose `compression` is `compression`, inflated:
 * `payload` itself when it is 0. Inflates into buffers of growing size, the
 * last one `limit + 1` bytes, so no payload makes it allocate much more than
 * `limit` whatever its ratio (fflate writes nothing past a buffer it is
 * given; a result that fills the buffer may have been cut, and is inflated
 * again into a larger one).
 * @param {unknown} compression  `State.compression` (0 or absent: none)
 * @param {Uint8Array} payload
 * @param {number} [limit=MAX_INFLATED_BYTES]
 * @returns {Uint8Array}
 * @throws {InflateError} `corrupt`, `too-large`, `unknown`
 */
export declare function inflateState(compression: unknown, payload: Uint8Array, limit?: number): Uint8Array;
