/**
 * Tells the game when the negotiated schema version is deprecated
 * (`Welcome.deprecated`, with the `sunset` date the server announced), so it
 * can ask the player to update before the version goes away.
 */
export type Deprecation = {
    /**
     * the negotiated token, e.g. `arena.v1.msgpack`
     */
    protocol: string;
    /**
     * its schema version
     */
    version: number;
    /**
     * `YYYY-MM-DD` after which the server may stop serving it, if announced
     */
    sunset: string | null;
};
/**
 * A deprecated version, as {@link DeprecationNotices#current} and the
 * `deprecated` event give it.
 * @typedef {object} Deprecation
 * @property {string} protocol     the negotiated token, e.g. `arena.v1.msgpack`
 * @property {number} version      its schema version
 * @property {string | null} sunset  `YYYY-MM-DD` after which the server may stop serving it, if announced
 */
/** Watches each connection's Welcome; warns once per token and sunset. */
export declare class DeprecationNotices {
    /** @private */
    private _emit;
    /** @private @type {Set<string>} */
    private _seen;
    /** The current connection's deprecation, or null when its version is current. @type {Deprecation | null} */
    current: Deprecation | null;
    /** @param {(event: 'deprecated', payload: Deprecation) => void} emit */
    constructor(emit: (event: 'deprecated', payload: Deprecation) => void);
    /**
     * A connection got its Welcome and is now the client's.
     * @param {{ welcome: any, token: { token: string, version: number } }} conn
     */
    notice(conn: {
        welcome: any;
        token: {
            token: string;
            version: number;
        };
    }): void;
}
