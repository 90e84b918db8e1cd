// A scripted in-memory WebSocket for unit tests of the client's state
// machine (handshake failures, reconnects, rejoins) without a server. It
// speaks msgpack envelopes, like arena.v*.msgpack.

import { encode, decode } from '@msgpack/msgpack';

/**
 * @typedef {object} FakeServer
 * @property {(protocols: string[], url: string) => string | number | null} accept  the token to echo,
 *   or null to refuse the upgrade (HTTP 400), or an HTTP status to refuse it with
 * @property {(ws: FakeWebSocket, msg: any) => void} [onMessage]  answers client envelopes
 * @property {(ws: FakeWebSocket) => Record<string, unknown>} [welcome]  fields of the Welcome
 *   (default: a new session `s<n>` and no resume token)
 */

export class FakeWebSocket {
  /** @type {FakeServer} */
  static server = { accept: (p) => p[0] };
  /** @type {FakeWebSocket[]} */
  static sockets = [];
  static session = 0;

  /**
   * @param {string} url
   * @param {string | string[]} [protocols]
   */
  constructor(url, protocols = []) {
    this.url = url;
    this.offered = Array.isArray(protocols) ? protocols : [protocols];
    this.protocol = '';
    this.readyState = 0;
    this.binaryType = 'blob';
    /** What the client sent, but its `Hello`s (they go to `hellos`). @type {any[]} */
    this.sent = [];
    /** The `Hello`s the client sent (the server answers none). @type {any[]} */
    this.hellos = [];
    /** Everything the client sent, in order, `Hello`s included. @type {any[]} */
    this.all = [];
    /** @type {number | undefined} the code the client closed with */
    this.closeCode = undefined;
    /** @type {((ev: any) => void) | null} */ this.onopen = null;
    /** @type {((ev: any) => void) | null} */ this.onmessage = null;
    /** @type {((ev: any) => void) | null} */ this.onerror = null;
    /** @type {((ev: any) => void) | null} */ this.onclose = null;
    FakeWebSocket.sockets.push(this);
    const server = FakeWebSocket.server;
    setTimeout(() => {
      const chosen = server.accept(this.offered, this.url);
      if (chosen === null || typeof chosen === 'number') {
        this.readyState = 3;
        this.onerror?.({ message: `Unexpected server response: ${chosen ?? 400}` });
        this.onclose?.({ code: 1006, reason: '' });
        return;
      }
      this.protocol = chosen;
      this.readyState = 1;
      this.onopen?.({});
      const fields = server.welcome ? server.welcome(this) : { session: `s${++FakeWebSocket.session}`, resumeToken: '' };
      this.push({ kind: { welcome: { serverTime: Date.now(), protocol: chosen, ...fields } } });
    }, 1);
  }

  /** Server → client: one envelope. @param {any} msg */
  push(msg) {
    if (this.readyState !== 1) return;
    const bytes = encode(msg);
    this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  }

  /** The server drops the connection. @param {number} [code=1006] @param {string} [reason=''] */
  drop(code = 1006, reason = '') {
    if (this.readyState === 3) return;
    this.readyState = 3;
    setTimeout(() => this.onclose?.({ code, reason }), 0);
  }

  /** @param {Uint8Array} data */
  send(data) {
    if (this.readyState !== 1) throw new Error('not open');
    const msg = /** @type {any} */ (decode(data));
    this.all.push(msg);
    if (msg?.kind?.hello) {
      this.hellos.push(msg);
      return;
    }
    this.sent.push(msg);
    FakeWebSocket.server.onMessage?.(this, msg);
  }

  /** @param {number} [code] @param {string} [reason] */
  close(code, reason) {
    if (this.readyState >= 2) return;
    this.closeCode = code;
    this.readyState = 2;
    setTimeout(() => {
      this.readyState = 3;
      this.onclose?.({ code: code ?? 1005, reason: reason ?? '' });
    }, 1);
  }
}

/** Resets the fake's global state. @param {FakeServer} server */
export function resetFake(server) {
  FakeWebSocket.server = server;
  FakeWebSocket.sockets = [];
}
