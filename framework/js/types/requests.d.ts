export type JoinResult = import('./types.js').JoinResult;
export type LeftEvent = import('./types.js').LeftEvent;
export type Pending = import('./types.js').Pending;
export type PendingJoin = Pending & {
    options: Record<string, string>;
    previous: string | undefined;
    request: number;
    kind: string;
    hops: number;
};
/** @typedef {import('./types.js').JoinResult} JoinResult */
/** @typedef {import('./types.js').LeftEvent} LeftEvent */
/** @typedef {import('./types.js').Pending} Pending */
/**
 * A join waiting for its `Joined` or `JoinError` (or a `Redirect`).
 * @typedef {Pending & { options: Record<string, string>, previous: string | undefined, request: number, kind: string, hops: number }} PendingJoin
 *   `previous`: the room this join rejoins after a new session (the SDK's own rejoin);
 *   `request`: its request id now (a redirect gives it a new one on the new connection);
 *   `kind`: `join`, `joinOrCreate` or `create`, as the app asked; `hops`: the redirects followed
 */
/**
 * The clock of round-trip times, in ms.
 * @returns {number}
 */
export declare function nowMs(): number;
/**
 * A pending request: settling it clears its timer and drops it from its map;
 * without an answer within `timeoutMs` it rejects with {@link TimeoutError}.
 * @param {number} timeoutMs
 * @param {(v: any) => void} resolve
 * @param {(e: Error) => void} reject
 * @param {string} what
 * @param {() => void} remove  drops the entry from its map
 * @returns {Pending}
 */
export declare function pending(timeoutMs: number, resolve: (v: any) => void, reject: (e: Error) => void, what: string, remove: () => void): Pending;
export type RequestIo = {
    timeoutMs: number;
    /**
     * sends a ClientMsg; false when not connected
     */
    send: (msg: object) => boolean;
    /**
     * whether requests may go out now
     */
    isOpen: () => boolean;
};
/**
 * What the requests need from the link.
 * @typedef {object} RequestIo
 * @property {number} timeoutMs
 * @property {(msg: object) => boolean} send  sends a ClientMsg; false when not connected
 * @property {() => boolean} isOpen  whether requests may go out now
 */
export declare class Requests {
    /** @private */
    private _io;
    /** The last round-trip time measured by a ping, in ms, or null. @type {number | null} */
    rttMs: number | null;
    /** @private @type {Map<number, PendingJoin>} */
    private _joins;
    /** @private @type {Map<number, Pending & { started: number }>} */
    private _pings;
    /** @private @type {Map<string, Pending[]>} */
    private _leaves;
    /** @private */
    private _nextRequest;
    /** @private */
    private _lastClientTime;
    /** @param {RequestIo} io */
    constructor(io: RequestIo);
    /**
     * Sends the message of a pending request; an encoding error rejects it.
     * @private
     * @param {Pending} entry
     * @param {object} msg
     */
    private _sendOrReject;
    /**
     * Sends a `Join`, `JoinOrCreate` or `Create`; resolves with its `Joined`,
     * rejects with its `JoinError`.
     * @param {'join' | 'joinOrCreate' | 'create'} kind
     * @param {{ room?: string, roomType?: string }} fields
     * @param {unknown} rawOptions  checked by joinOptions (a bad value rejects)
     * @param {string} [previous]  the SDK's rejoin of this room after a new session
     * @returns {Promise<JoinResult>}
     */
    join(kind: 'join' | 'joinOrCreate' | 'create', fields: {
        room?: string;
        roomType?: string;
    }, rawOptions: unknown, previous?: string): Promise<JoinResult>;
    /**
     * The join waiting for the answer to `request`, if any.
     * @param {number} request
     * @returns {PendingJoin | undefined}
     */
    joinFor(request: number): PendingJoin | undefined;
    /** How many joins are waiting for their answer. */
    get joinsInFlight(): number;
    /**
     * Whether `entry` is still waiting (not settled, not timed out).
     * @param {PendingJoin} entry
     * @returns {boolean}
     */
    isPending(entry: PendingJoin): boolean;
    /**
     * Gives a join that follows a redirect a fresh `timeoutMs` (the move
     * dials another node first, then joins there).
     * @param {PendingJoin} entry
     */
    extend(entry: PendingJoin): void;
    /**
     * Follows a redirect on the new connection: sends `Join{room,
     * reservation}` with the join's options under a new request id, and the
     * join waits for that answer (its promise is the one the app holds).
     * @param {PendingJoin} entry
     * @param {string} room
     * @param {string} reservation
     */
    sendRedirected(entry: PendingJoin, room: string, reservation: string): void;
    /**
     * Sends a `Leave` and resolves with the server's `Left` (see
     * {@link Requests#settleLeaves}).
     * @param {string} room
     * @returns {Promise<LeftEvent>}
     */
    leave(room: string): Promise<LeftEvent>;
    /**
     * Resolves every leave of `room` waiting for its `Left`.
     * @param {string} room
     * @param {LeftEvent} left
     */
    settleLeaves(room: string, left: LeftEvent): void;
    /**
     * Sends an envelope `Ping` and resolves with the round-trip time when its
     * `Pong` arrives ({@link Requests#pong}).
     * @returns {Promise<number>}
     */
    ping(): Promise<number>;
    /**
     * A `Pong` arrived: settles its ping and records the round-trip time.
     * @param {number} clientTime
     */
    pong(clientTime: number): void;
    /**
     * Rejects every pending join, ping and leave.
     * @param {Error} e
     */
    failAll(e: Error): void;
    /**
     * Rejects the pending pings (pongs are not replayed by a resume).
     * @param {Error} e
     */
    failPings(e: Error): void;
}
