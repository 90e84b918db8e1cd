export type Conn = import('./types.js').Conn;
export type Emit = import('./types.js').Emit;
export type ResumeOutcome = import('./types.js').ResumeOutcome;
export type ResumeWait = import('./types.js').ResumeWait;
export type ResumedEvent = import('./types.js').ResumedEvent;
export type RoomInfo = import('./types.js').RoomInfo;
export type ResumedMsg = {
    session?: unknown;
    resumeToken?: unknown;
    replayed?: unknown;
    resync?: unknown;
    rooms?: unknown;
};
/** `Error.code` of a refused resume (docs/protocol.md; envelope.proto `Resume`). */
export declare const ERROR_RESUME_UNAVAILABLE = 4002;
/** `Error.code` of a message kind the server does not know (a server without resume). */
export declare const ERROR_UNKNOWN_KIND = 1003;
export type ResumeIo = {
    timeoutMs: number;
    session: import('./session.js').SessionTracker;
    rooms: import('./rooms.js').RoomTable;
    /**
     * (leaves settled by the reconcile)
     */
    requests: import('./requests.js').Requests;
    /**
     * sends a ClientMsg; false when not connected
     */
    send: (msg: object) => boolean;
    emit: Emit;
};
/**
 * What resuming needs from the rest of the client.
 * @typedef {object} ResumeIo
 * @property {number} timeoutMs
 * @property {import('./session.js').SessionTracker} session
 * @property {import('./rooms.js').RoomTable} rooms
 * @property {import('./requests.js').Requests} requests  (leaves settled by the reconcile)
 * @property {(msg: object) => boolean} send  sends a ClientMsg; false when not connected
 * @property {Emit} emit
 */
/** The resume in flight (at most one: one connection is attached at a time). */
export declare class Resumer {
    /** @private */
    private _io;
    /** @private @type {ResumeWait | null} */
    private _wait;
    /** @param {ResumeIo} io */
    constructor(io: ResumeIo);
    /** Whether a resume is in flight. */
    get inFlight(): boolean;
    /**
     * Sends `Resume` on `conn` (attached, nothing sent on it yet) and resolves
     * once the session is resumed and the replay handled (`{ ok: true }`) or
     * the server refused (`{ ok: false, reason }`), or a cluster node sent
     * it on to the session's node (`{ ok: false, reason, redirect }`; see
     * {@link Resumer#onRedirect}). Rejects when the
     * connection closes ({@link Resumer#abort}) or no answer comes within
     * `timeoutMs`.
     * @param {Conn} conn
     * @returns {Promise<ResumeOutcome>}
     */
    start(conn: Conn): Promise<ResumeOutcome>;
    /**
     * `Resumed` arrived on `conn`.
     * @param {Conn} conn
     * @param {ResumedMsg} m  the Resumed envelope
     */
    onResumed(conn: Conn, m: ResumedMsg): void;
    /**
     * A refusal (`Error` 4002, or 1003 from a server that does not know
     * `Resume`) for the resume in flight on `conn`.
     * @param {Conn} conn
     * @param {{ code?: unknown, reason?: unknown }} m  the Error envelope
     * @returns {boolean} whether it was one (it then becomes `newSession`, not an `error`)
     */
    onRefused(conn: Conn, m: {
        code?: unknown;
        reason?: unknown;
    }): boolean;
    /**
     * A `Redirect` for the resume in flight on `conn`: a cluster node that
     * does not hold the session names the node that does (`request` 0, no
     * `room`; docs/protocol.md §4.3, §7.1). The resume resolves with
     * `{ ok: false, redirect: url }`: the caller resumes there, with the
     * same token and lastSeq (rejoin.js).
     * @param {Conn} conn
     * @param {{ request?: unknown, room?: unknown, url?: unknown }} m  the Redirect envelope
     * @returns {boolean} whether it was one (else it is a join's: redirect.js)
     */
    onRedirect(conn: Conn, m: {
        request?: unknown;
        room?: unknown;
        url?: unknown;
    }): boolean;
    /**
     * After `Resumed` and after each reliable message: once the whole replay
     * has been handled, reconcile the rooms, emit `resumed`, and let the
     * reconnect loop go on.
     */
    checkDone(): void;
    /**
     * The connection closed: the resume in flight, if any, rejects with `e`.
     * @param {Error} e
     */
    abort(e: Error): void;
}
/**
 * Makes the client's rooms what the server says the session is in. The list
 * describes the session after the replayed messages, so it is compared only
 * once they have been handled.
 *
 * - a room of the client not in the list: gone without a `Left` having
 *   arrived (it was lost with a resync): forgotten, and `left` is emitted
 *   with reason 0. Rooms still to be rejoined (their seat was in an older
 *   session) are kept for the rejoin;
 * - a room in the list the client does not have: if `leave` was called for
 *   it, the `Leave` never reached the server: sent again; otherwise it is
 *   taken on (`joined` with request 0; a `Joined` lost with a resync);
 * - a room `leave` was called for that is not in the list: the pending
 *   leaves resolve.
 * @param {Pick<ResumeIo, 'rooms' | 'requests' | 'send' | 'emit'>} io
 * @param {RoomInfo[]} list
 */
export declare function reconcileRooms({ rooms, requests, send, emit }: Pick<ResumeIo, 'rooms' | 'requests' | 'send' | 'emit'>, list: RoomInfo[]): void;
