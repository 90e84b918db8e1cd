// @ts-check
/**
 * Tells the game when the negotiated schema version is deprecated
 * (`Welcome.deprecated`, with the `sunset` date the server announced), so it
 * can ask the player to update before the version goes away.
 */

/**
 * A deprecated version, as {@link DeprecationNotices#current} and the
 * `deprecated` event give it.
 * @typedef {object} Deprecation
 * @property {string} protocol     the negotiated token, e.g. `arena.v1.msgpack`
 * @property {number} version      its schema version
 * @property {string | null} sunset  `YYYY-MM-DD` after which the server may stop serving it, if announced
 */

/** Watches each connection's Welcome; warns once per token and sunset. */
export class DeprecationNotices {
  /** @param {(event: 'deprecated', payload: Deprecation) => void} emit */
  constructor(emit) {
    /** @private */
    this._emit = emit;
    /** @private @type {Set<string>} */
    this._seen = new Set();
    /** The current connection's deprecation, or null when its version is current. @type {Deprecation | null} */
    this.current = null;
  }

  /**
   * A connection got its Welcome and is now the client's.
   * @param {{ welcome: any, token: { token: string, version: number } }} conn
   */
  notice(conn) {
    const w = conn.welcome;
    if (!w || w.deprecated !== true) {
      this.current = null;
      return;
    }
    const sunset = typeof w.sunset === 'string' && w.sunset !== '' ? w.sunset : null;
    this.current = { protocol: conn.token.token, version: conn.token.version, sunset };
    const key = `${conn.token.token}|${sunset ?? ''}`;
    if (this._seen.has(key)) return; // told already (a reconnect to the same version)
    this._seen.add(key);
    console.warn(
      `playhouse-client: ${conn.token.token} is deprecated${sunset ? ` (sunset ${sunset})` : ''}; this game client should be updated`,
    );
    this._emit('deprecated', this.current);
  }
}
