// Dialing: the first connect (each server URL once, in order, authenticating
// when due, the failures summed up in one error) and the opening of one
// socket wired to the client (its frames to frames.js, its close to
// closing.js; with `auth`, the token on the URL or an `Auth` owed first).

import { AuthError, ConnectError } from './errors.js';
import { FailedBeforeOpen, safeClose, detach, openSocket, explain } from './connection.js';
import { onFrame } from './frames.js';
import { onSocketClose } from './closing.js';
import { currentToken, withToken, sendAuth, refusalStatus } from './auth.js';

/** @typedef {import('./client.js').Client} Client */
/** @typedef {import('./types.js').Conn} Conn */

/**
 * The first connect ({@link Client.connect}): each URL once, in order. The
 * first that answers with a `Welcome` (and accepts the credential) is used;
 * when none does, the error of the first is thrown, its message naming what
 * the others answered. An auth failure another server of the deployment
 * would repeat is thrown at once.
 * @param {Client} client
 * @returns {Promise<void>}
 */
export async function connectFirst(client) {
  /** @type {Array<{ url: string, error: Error }>} */
  const failures = [];
  for (let i = 0; i < client._urls.length; i++) {
    const url = client._urls[i];
    let conn;
    try {
      const token = client._auth ? await currentToken(client._auth) : '';
      conn = await connectOnce(client, url, token);
      client._attach(conn, i);
      client._session.begin(conn.welcome ?? {});
      if (conn.awaitingAuth) await sendAuth(client, token);
    } catch (e) {
      if (conn) dropConn(client, conn);
      const error = e instanceof Error ? e : new Error(String(e));
      // Another server of the same deployment would refuse the same way.
      if (e instanceof AuthError && (e.fatal || e.kind === 'token')) {
        client._status = 'closed';
        throw error;
      }
      failures.push({ url, error });
      continue;
    }
    client._status = 'open';
    return;
  }
  client._status = 'closed';
  const [first, ...others] = failures;
  if (others.length) {
    first.error.message += ` (also tried ${others.map((f) => `${f.url}: ${f.error.message}`).join('; ')})`;
  }
  throw first.error;
}

/**
 * A first-connect socket that failed during authentication.
 * @param {Client} client
 * @param {Conn} conn
 */
function dropConn(client, conn) {
  if (client._conn === conn) client._conn = null;
  detach(conn.ws);
  safeClose(conn.ws);
}

/**
 * One connect to `url`, with a refusal explained (HTTP 401: an {@link AuthError}).
 * @param {Client} client
 * @param {string} url
 * @param {string} token  the credential ('' for none)
 * @returns {Promise<Conn>}
 */
async function connectOnce(client, url, token) {
  let conn;
  try {
    conn = await openClientSocket(client, url, token);
  } catch (e) {
    if (e instanceof FailedBeforeOpen) {
      const status = refusalStatus(e.detail);
      if (status === 401) throw new AuthError('unauthorized', 0, `HTTP 401 from ${url}: no valid credential at the upgrade`, { status });
      const sentToken = client._auth?.mode === 'query';
      throw await explain(e, { url, tokens: client._tokens, timeoutMs: client._timeoutMs, fetchFn: client._fetch, status, sentToken });
    }
    throw e;
  }
  if (conn.closedWith) {
    const { code, reason } = conn.closedWith;
    throw new ConnectError(`could not connect to ${url}: the server closed the connection (${code} ${reason})`, {
      kind: 'no-welcome',
    });
  }
  return conn;
}

/**
 * Opens one socket to `url` and waits for its Welcome. With `token`, the
 * connection awaits its `Auth` (nothing else goes out before it); in auth
 * mode `query` the URL carries the token as well, and the `Auth` (the same
 * token: a refresh to the server) tells the client its user and expiry.
 * @param {Client} client
 * @param {string} url
 * @param {string} [token='']
 * @returns {Promise<Conn>}
 */
export async function openClientSocket(client, url, token = '') {
  const mode = token && client._auth ? client._auth.mode : null;
  const conn = await openSocket({
    url,
    dialUrl: mode === 'query' ? withToken(url, token) : undefined,
    tokens: client._tokens,
    WS: client._WS,
    timeoutMs: client._timeoutMs,
    schema: client._schema,
    game: client._game,
    onFrame: (conn, bytes) => onFrame(client, conn, bytes),
    onClose: (c, code, reason) => onSocketClose(client, c, code, reason),
  });
  conn.awaitingAuth = mode !== null && !conn.closedWith;
  return conn;
}
