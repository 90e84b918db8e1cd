export type Core = import('./types.js').Core;
/** @typedef {import('./types.js').Core} Core */
/**
 * Closes the connection normally (1000) and stops reconnecting
 * ({@link Client#close}).
 * @param {Core} core
 * @returns {Promise<void>} resolves once closed
 */
export declare function closeClient(core: Core): Promise<void>;
/**
 * The client is closed for good: the socket closed, pending requests and a
 * resume in flight rejected, the rooms forgotten, `close` emitted.
 * @param {Pick<Core, 'link' | 'sleeper' | 'auth' | 'requests' | 'session' | 'resumer' | 'rooms' | 'emit'>} core
 * @param {number} code
 * @param {string} reason
 */
export declare function finish({ link, sleeper, auth, requests, session, resumer, rooms, emit }: Pick<Core, 'link' | 'sleeper' | 'auth' | 'requests' | 'session' | 'resumer' | 'rooms' | 'emit'>, code: number, reason: string): void;
