// Subprotocol tokens `<app>.v<N>.<codec>` (docs/protocol.md §2.1) and the
// words used to explain a refused handshake to a person (§2.3, §2.4).

/**
 * The codecs a token can name.
 * @typedef {'proto' | 'msgpack'} CodecName
 */

/**
 * A parsed subprotocol token.
 * @typedef {object} Token
 * @property {string} token    the token as written, e.g. `arena.v2.proto`
 * @property {string} app      `arena`
 * @property {number} version  `2`
 * @property {CodecName} codec `proto`
 */

const TOKEN_RE = /^([a-z0-9_-]+)\.v(0|[1-9][0-9]*)\.(msgpack|proto)$/;
const MAX_VERSION = 2 ** 32 - 1;

/**
 * Parses a token such as `arena.v2.proto` (grammar: docs/protocol.md §2.1:
 * lowercase `[a-z0-9_-]+` app, canonical decimal version 1..2^32-1, codec
 * `proto` or `msgpack`).
 *
 * @param {string} token
 * @returns {Token | null} null when the token does not parse
 */
export function parseToken(token) {
  if (typeof token !== 'string') return null;
  const m = TOKEN_RE.exec(token);
  if (!m) return null;
  const version = Number(m[2]);
  if (version < 1 || version > MAX_VERSION) return null;
  return { token, app: m[1], version, codec: /** @type {CodecName} */ (m[3]) };
}

/**
 * Checks the `tokens` option of {@link Client.connect}: a non-empty array of
 * valid, distinct tokens (a browser's `new WebSocket` throws on duplicates).
 *
 * @param {unknown} tokens
 * @returns {Token[]} the parsed tokens, in the given order
 * @throws {TypeError} naming the offending token
 */
export function parseTokens(tokens) {
  if (!Array.isArray(tokens) || tokens.length === 0) {
    throw new TypeError('playhouse-client: `tokens` must be a non-empty array such as ["arena.v2.proto", "arena.v2.msgpack"]');
  }
  /** @type {Token[]} */
  const out = [];
  const seen = new Set();
  for (const t of tokens) {
    const parsed = parseToken(t);
    if (!parsed) {
      throw new TypeError(
        `playhouse-client: invalid token ${JSON.stringify(t)}: expected <app>.v<N>.<codec> with a lowercase app, ` +
          'a version from 1 written without leading zeros, and codec "proto" or "msgpack" (e.g. "arena.v2.proto")',
      );
    }
    if (seen.has(parsed.token)) throw new TypeError(`playhouse-client: token ${parsed.token} is listed twice`);
    seen.add(parsed.token);
    out.push(parsed);
  }
  return out;
}

/**
 * Writes a set of versions compactly: `v2`, `v1–v3`, `v1, v3–v4`.
 *
 * @param {Iterable<number>} versions
 * @returns {string}
 */
export function formatVersions(versions) {
  const vs = [...new Set(versions)].sort((a, b) => a - b);
  /** @type {string[]} */
  const parts = [];
  for (let i = 0; i < vs.length; ) {
    let j = i;
    while (j + 1 < vs.length && vs[j + 1] === vs[j] + 1) j++;
    parts.push(i === j ? `v${vs[i]}` : `v${vs[i]}–v${vs[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

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
export function explainRefusal({ url, offered, info, infoUrl, infoError }) {
  const head = `could not connect to ${url}`;
  if (!info) {
    const why = infoError ? ` (GET ${infoUrl ?? '/info'}: ${infoError})` : '';
    return {
      kind: 'unreachable',
      message: `${head}: the server is unreachable${why}. Check the address and that the server is running.`,
    };
  }
  const mine = offered.map(parseToken).filter(/** @returns {t is Token} */ (t) => t !== null);
  const apps = [...new Set(mine.map((t) => t.app))];
  const theirs = Array.isArray(info.protocols) ? info.protocols.map(String) : [];
  const theirVersions = Array.isArray(info.versions) && info.versions.length
    ? info.versions.map(Number)
    : theirs.map(parseToken).flatMap((t) => (t ? [t.version] : []));
  const theirList = theirs.join(', ') || 'nothing';
  const serverSpeaks = `the server speaks ${info.app} ${formatVersions(theirVersions)} (${theirList})`;

  if (!apps.includes(info.app)) {
    return {
      kind: 'wrong-app',
      message: `${head}: this client is for ${apps.join('/')}, but this server runs ${JSON.stringify(info.app)} (${theirList}). Check the address.`,
    };
  }
  const shared = offered.filter((t) => theirs.includes(t));
  if (shared.length) {
    return {
      kind: 'refused',
      message:
        `${head}: the server refused the WebSocket upgrade although it speaks ${shared[0]}, which this client offered. ` +
        'It may be full (HTTP 503: try again later), or a proxy in between may block WebSocket upgrades.',
    };
  }
  const mineForApp = mine.filter((t) => t.app === info.app);
  const myVersions = mineForApp.map((t) => t.version);
  const clientSpeaks = `this client speaks ${info.app} ${formatVersions(myVersions)} (${mineForApp.map((t) => t.token).join(', ')})`;
  let hint = '';
  if (theirVersions.length && myVersions.length) {
    if (Math.min(...myVersions) > Math.max(...theirVersions)) hint = ' The server is older than this client: update the server, or use an older client.';
    else if (Math.max(...myVersions) < Math.min(...theirVersions)) hint = ' This client is too old for the server: update the client (reload the page).';
    else if (myVersions.some((v) => theirVersions.includes(v))) hint = ' The versions overlap but no codec is shared.';
  }
  return { kind: 'incompatible', message: `${head}: ${clientSpeaks}, ${serverSpeaks}.${hint}` };
}

/**
 * The `/info` URL for a WebSocket URL: same host, `http`/`https` for
 * `ws`/`wss`; a path ending in `/ws` has that segment replaced by `/info`
 * (so a server mounted under a prefix works), any other path becomes `/info`.
 *
 * @param {string} wsUrl
 * @returns {string}
 */
export function infoUrlFor(wsUrl) {
  const u = new URL(wsUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol;
  u.pathname = u.pathname.endsWith('/ws') ? `${u.pathname.slice(0, -3)}/info` : '/info';
  u.search = '';
  u.hash = '';
  return u.toString();
}
