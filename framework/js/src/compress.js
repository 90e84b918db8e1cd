// Compressed state payloads (`State.compression`, docs/protocol.md §4.6):
// the inflating side of proto/src/compress.rs. A client asks for them with
// the query parameter `compress=deflate` on the WebSocket URL (the
// `compression` option); the server says in `Welcome.compression` whether
// it will compress, and then sends the payload of a large state (whole or
// delta) as raw DEFLATE (RFC 1951, no zlib or gzip header), with
// `State.compression` = 1. The client inflates it before it applies a delta
// and before it decodes, whether it asked or not: the game sees whole,
// plain states.
//
// fflate's synchronous inflate, on purpose: DecompressionStream is
// asynchronous, and a state inflated later than the frame after it would
// reach the game out of order.

import { inflateSync } from 'fflate';
import { InflateError } from './errors.js';

/** The query parameter that asks for compression at the handshake. */
export const COMPRESS_PARAM = 'compress';

/** The compression this client asks for and inflates: raw DEFLATE. */
export const DEFLATE = 'deflate';

/** `State.compression` of a raw DEFLATE payload (0: none). */
export const COMPRESSION_DEFLATE = 1;

/**
 * The most bytes a compressed payload may inflate to, as the Rust client
 * takes (`MAX_STATE` in framework/client/src/deltas.rs): far above any state
 * a room sends tens of times a second, low enough that a broken or hostile
 * payload cannot make the client allocate much more.
 */
export const MAX_INFLATED_BYTES = 16 * 1024 * 1024;

/**
 * `url` asking for compression: `compress=deflate` appended to its query
 * (`?` or `&`), as `Compression::ask` does in Rust. A URL that asks for a
 * compression already is left as it is.
 * @param {string} url  a ws:// or wss:// URL (WebSocket URLs have no fragment)
 * @returns {string}
 */
export function withCompression(url) {
  const q = url.indexOf('?');
  if (q >= 0 && url.slice(q + 1).split('&').some((kv) => kv.split('=')[0] === COMPRESS_PARAM)) return url;
  return `${url}${q >= 0 ? '&' : '?'}${COMPRESS_PARAM}=${DEFLATE}`;
}

/**
 * The compression a `Welcome` says the server applies on its connection:
 * `'deflate'`, or null (none, or a server that does not compress).
 * @param {{ compression?: unknown } | null | undefined} welcome
 * @returns {'deflate' | null}
 */
export function welcomeCompression(welcome) {
  return typeof welcome?.compression === 'string' && welcome.compression.trim() === DEFLATE ? DEFLATE : null;
}

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
export function inflateState(compression, payload, limit = MAX_INFLATED_BYTES) {
  const c = Number(compression ?? 0);
  if (c === 0) return payload;
  if (c !== COMPRESSION_DEFLATE) throw new InflateError('unknown', String(compression));
  // fflate gives back the buffer it was given for an empty input; a DEFLATE stream has a block at least.
  if (!payload.length) throw new InflateError('corrupt', 'empty');
  // States compress about 2 to 5 times: most fit the first buffer.
  let size = Math.min(limit + 1, Math.max(1024, payload.length * 8));
  for (;;) {
    let out = new Uint8Array(size);
    let whole = false;
    try {
      out = inflateSync(payload, { out });
      whole = out.length < size;
    } catch (e) {
      // A stored block past the end of the buffer: a RangeError from `set`, i.e. cut.
      if (!(e instanceof RangeError)) throw new InflateError('corrupt', e instanceof Error ? e.message : String(e));
    }
    if (whole) return out;
    if (size > limit) throw new InflateError('too-large', String(limit));
    size = Math.min(limit + 1, size * 8);
  }
}
