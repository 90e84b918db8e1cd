export type Conn = import('./types.js').Conn;
export type JoinResult = import('./types.js').JoinResult;
export type FrameCore = Pick<import('./types.js').Core, 'link' | 'session' | 'rooms' | 'requests' | 'resumer' | 'auth' | 'emit' | 'dialer' | 'channels' | 'baselines'>;
/**
 * One server frame.
 * @param {FrameCore} core
 * @param {Conn} conn
 * @param {Uint8Array} bytes
 */
export declare function onFrame(core: FrameCore, conn: Conn, bytes: Uint8Array): void;
