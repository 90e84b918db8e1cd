export type Core = import('./types.js').Core;
export type Conn = import('./types.js').Conn;
export type JoinResult = import('./types.js').JoinResult;
export type RoomRecord = import('./types.js').RoomRecord;
export type ReconnectedEvent = import('./types.js').ReconnectedEvent;
/** @typedef {import('./types.js').Core} Core */
/** @typedef {import('./types.js').Conn} Conn */
/** @typedef {import('./types.js').JoinResult} JoinResult */
/** @typedef {import('./types.js').RoomRecord} RoomRecord */
/** @typedef {import('./types.js').ReconnectedEvent} ReconnectedEvent */
/**
 * On a fresh connection: resume the session if possible, else begin the
 * connection's own; then rejoin what needs rejoining. Throws when the
 * connection fails meanwhile (the loop tries again).
 * @param {Core} core
 * @param {import('./redirect.js').Attempt} attempt  the connection (a resume redirect moves it)
 * @param {import('./backoff.js').ReconnectPolicy} policy
 * @param {number} code    of the close that started the reconnect
 * @param {string} reason
 * @returns {Promise<Omit<ReconnectedEvent, 'protocol' | 'session' | 'url'>>}
 */
export declare function settleSession(core: Core, attempt: import('./redirect.js').Attempt, policy: import('./backoff.js').ReconnectPolicy, code: number, reason: string): Promise<Omit<ReconnectedEvent, 'protocol' | 'session' | 'url'>>;
