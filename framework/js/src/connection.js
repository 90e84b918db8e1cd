// The socket and handshake path: open one WebSocket, check the negotiated
// subprotocol, wait for the Welcome, and explain a refused upgrade (GET /info).

import { explainRefusal, infoUrlFor } from './tokens.js';
import { createCodec } from './codec.js';
import { ConnectError, HandshakeRefusedError } from './errors.js';

/** @typedef {import('./tokens.js').Token} Token */
/** @typedef {import('./codec.js').GameTypes} GameTypes */
/** @typedef {import('./types.js').WebSocketLike} WebSocketLike */
/** @typedef {import('./types.js').WebSocketConstructor} WebSocketConstructor */
/** @typedef {import('./types.js').Conn} Conn */

export const OPEN = 1;

/** The socket failed before the upgrade completed (refused or unreachable). */
export class FailedBeforeOpen extends Error {
  /**
   * @param {number} code
   * @param {string} reason
   * @param {string} detail
   */
  constructor(code, reason, detail) {
    super(`WebSocket failed before opening (${code}${detail ? `: ${detail}` : ''})`);
    this.code = code;
    this.reason = reason;
    this.detail = detail;
  }
}

/** @param {unknown} e @returns {string} */
export function errText(e) {
  if (e instanceof Error) {
    const cause = /** @type {any} */ (e).cause;
    return cause instanceof Error && cause.message ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
}

/**
 * Closes normally (1000): the server ends the session (no resume).
 * @param {WebSocketLike} ws
 */
export function safeClose(ws) {
  try {
    ws.close(1000);
  } catch {
    /* already closing */
  }
}

/** Close code the client uses to drop a connection whose session it may still resume. */
export const CLOSE_ABANDONED = 4000;

/**
 * Closes a connection the client gives up on (e.g. a resume that got no
 * answer in time) with {@link CLOSE_ABANDONED}: any code but 1000 leaves
 * the session resumable on the server, so the next attempt can resume it.
 * @param {WebSocketLike} ws
 */
export function abandon(ws) {
  try {
    ws.close(CLOSE_ABANDONED, 'abandoned by the client');
  } catch {
    /* already closing */
  }
}

function noop() {}

/**
 * Stops listening to a socket. Handlers become no-ops rather than null: the
 * `ws` package throws on an 'error' event nobody listens to.
 * @param {WebSocketLike} ws
 */
export function detach(ws) {
  ws.onopen = ws.onmessage = ws.onerror = ws.onclose = noop;
}

/** @param {unknown} data @returns {Uint8Array | null} */
function frameBytes(data) {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null; // a text frame: the protocol has none from the server
}

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
export function openSocket({ url, dialUrl, tokens, WS, timeoutMs, schema, game, onFrame, onClose }) {
  return new Promise((resolve, reject) => {
    const offered = tokens.map((t) => t.token);
    /** @type {WebSocketLike} */
    let ws;
    try {
      ws = new WS(dialUrl ?? url, offered);
    } catch (e) {
      reject(new ConnectError(`could not connect to ${url}: ${errText(e)}`, { kind: 'unreachable', cause: e }));
      return;
    }
    ws.binaryType = 'arraybuffer';
    let settled = false;
    let opened = false;
    let lastError = '';
    /** @type {Conn | null} */
    let conn = null;
    const timer = setTimeout(
      () => fail(new ConnectError(`could not connect to ${url}: no answer within ${timeoutMs} ms`, { kind: 'timeout' })),
      timeoutMs,
    );
    /** @param {Error} e */
    const fail = (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      detach(ws);
      safeClose(ws);
      reject(e);
    };
    ws.onopen = () => {
      opened = true;
      const chosen = ws.protocol;
      const token = tokens.find((t) => t.token === chosen);
      if (!token) {
        fail(
          new ConnectError(
            `could not connect to ${url}: the server chose subprotocol ${JSON.stringify(chosen)}, ` +
              `which this client did not offer (offered: ${offered.join(', ')})`,
            { kind: 'bad-protocol' },
          ),
        );
        return;
      }
      try {
        conn = { url, ws, token, codec: createCodec(token, schema, game), welcome: null, closedWith: null, awaitingAuth: false };
      } catch (e) {
        fail(e instanceof Error ? e : new Error(String(e)));
      }
    };
    ws.onerror = (ev) => {
      lastError = ev && (ev.message || (ev.error && ev.error.message)) ? String(ev.message || ev.error.message) : lastError;
    };
    ws.onmessage = (ev) => {
      const bytes = frameBytes(ev.data);
      if (!conn || !bytes) return;
      if (settled) {
        onFrame(conn, bytes);
        return;
      }
      let msg;
      try {
        msg = conn.codec.decodeServer(bytes);
      } catch (e) {
        fail(new ConnectError(`could not connect to ${url}: the first message did not decode: ${errText(e)}`, { kind: 'no-welcome' }));
        return;
      }
      const welcome = msg && msg.kind && msg.kind.welcome;
      if (!welcome) {
        fail(new ConnectError(`could not connect to ${url}: expected Welcome first, got ${JSON.stringify(Object.keys(msg?.kind ?? {}))}`, { kind: 'no-welcome' }));
        return;
      }
      conn.welcome = welcome;
      settled = true;
      clearTimeout(timer);
      resolve(conn);
    };
    ws.onclose = (ev) => {
      const code = typeof ev?.code === 'number' ? ev.code : 1006;
      const reason = typeof ev?.reason === 'string' ? ev.reason : '';
      if (settled) {
        if (conn) {
          conn.closedWith = { code, reason };
          onClose(conn, code, reason);
        }
        return;
      }
      if (!opened) {
        fail(new FailedBeforeOpen(code, reason, lastError));
      } else {
        fail(new ConnectError(`could not connect to ${url}: the server closed the connection before Welcome (${code} ${reason})`, { kind: 'no-welcome' }));
      }
    };
  });
}

/** A refused upgrade's status → its {@link HandshakeRefusedError} kind and words. */
const REFUSALS = /** @type {Record<number, ['forbidden' | 'too-many' | 'unavailable', string]>} */ ({
  403: ['forbidden', 'HTTP 403: the server does not allow this page\'s origin (or a proxy forbade the upgrade)'],
  429: ['too-many', 'HTTP 429: too many connections from this address, or sessions of this user; try again later'],
  503: ['unavailable', 'HTTP 503: the server is full or shutting down; try again later or connect to another server'],
});

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
export async function explain(failure, { url, tokens, timeoutMs, fetchFn, status = null, sentToken = false }) {
  const offered = tokens.map((t) => t.token);
  const infoUrl = infoUrlFor(url);
  /** @type {any} */
  let info = null;
  let infoError = '';
  try {
    if (typeof fetchFn !== 'function') throw new Error('fetch is not available');
    const signal = typeof AbortSignal !== 'undefined' && 'timeout' in AbortSignal ? AbortSignal.timeout(timeoutMs) : undefined;
    // called on globalThis: a browser's fetch throws "Illegal invocation" on any other `this`
    const res = await fetchFn.call(globalThis, infoUrl, { signal, headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const body = await res.json();
    if (!body || typeof body.app !== 'string' || !Array.isArray(body.protocols)) throw new Error('not a Playhouse /info answer');
    info = body;
  } catch (e) {
    infoError = errText(e);
    if (failure.detail) infoError += `; WebSocket: ${failure.detail}`;
  }
  const explained = explainRefusal({ url: url, offered, info, infoUrl, infoError });
  /** @type {import('./errors.js').RefusalKind | 'unreachable'} */
  let kind = explained.kind;
  let message = explained.message;
  const known = status === null ? undefined : REFUSALS[status];
  if (known && kind === 'refused') {
    kind = known[0];
    message = `could not connect to ${url}: ${known[1]}`;
  } else if (kind === 'refused' && status === null && info?.limits?.auth === 'upgrade' && !sentToken) {
    message += ' This server wants a token at the upgrade: pass auth: { token, mode: \'query\' }.';
  }
  if (kind === 'unreachable' || !info) return new ConnectError(message, { kind: 'unreachable', cause: failure });
  return new HandshakeRefusedError(message, {
    kind,
    status,
    offered,
    serverProtocols: info.protocols.map(String),
    serverVersions: Array.isArray(info.versions) ? info.versions.map(Number) : [],
    serverApp: info.app,
  });
}
