/** The most payloads kept per room (the server's baseline is a round trip old: a few). */
export declare const MAX_HISTORY = 64;
/**
 * The longest state a delta may rebuild: far above any state a room sends
 * tens of times a second, low enough that a broken delta cannot make the
 * client allocate much.
 */
export declare const MAX_STATE_BYTES: number;
/** How often a room's delta states are acknowledged at most, in ms (as the Rust client). */
export declare const ACK_INTERVAL_MS = 100;
export type ClientEvents = import('./types.js').ClientEvents;
export type StateStats = {
    /**
     * states that arrived whole
     */
    wholeStates: number;
    /**
     * the payload bytes of those
     */
    wholeBytes: number;
    /**
     * states that arrived as deltas and were rebuilt
     */
    deltaStates: number;
    /**
     * the payload bytes of those deltas
     */
    deltaBytes: number;
    /**
     * the bytes of the whole states they rebuilt (what they
     * would have cost whole): `deltaBytes / rebuiltBytes` is what deltas cost in comparison
     */
    rebuiltBytes: number;
    /**
     * deltas dropped (their baseline was not held, or they did
     * not apply): the game did not see those states, and the next one came whole
     */
    deltaFailures: number;
    /**
     * states whose payload (whole or delta) came compressed
     * and was inflated (the `compression` option)
     */
    compressedStates: number;
    /**
     * the payload bytes of those, as they came
     */
    compressedBytes: number;
    /**
     * the same payloads once inflated:
     * `compressedBytes / inflatedBytes` is what compression saved
     */
    inflatedBytes: number;
    /**
     * time spent inflating, in milliseconds
     */
    inflateMs: number;
    /**
     * compressed payloads dropped because they did not
     * inflate (corrupt, over 16 MiB, or an unknown compression); the next state came whole
     */
    inflateFailures: number;
};
export type RoomBaselines = {
    /**
     * oldest first, ticks ascending
     */
    held: Array<{
        tick: number;
        payload: Uint8Array;
    }>;
    /**
     * a `StateAck{tick: 0}` went out and no state was applied since
     */
    reset: boolean;
    /**
     * when the last `StateAck` of a state applied went out (ms; 0: none yet)
     */
    ackedAt: number;
};
export type StateMsg = {
    room: string;
    tick: unknown;
    payload: Uint8Array;
    /**
     * 0 or absent: `payload` is whole
     */
    baseline?: unknown;
    /**
     * 0 or absent: `payload` is as encoded; 1: raw DEFLATE
     */
    compression?: unknown;
};
/** @typedef {import('./types.js').ClientEvents} ClientEvents */
/**
 * What the client received of states (`Client#stats`): how many came whole
 * and as deltas, how many compressed, and what they cost. The bytes of
 * whole states and deltas are counted as they are once inflated; a
 * compressed payload's bytes on the wire are in `compressedBytes`.
 * @typedef {object} StateStats
 * @property {number} wholeStates    states that arrived whole
 * @property {number} wholeBytes     the payload bytes of those
 * @property {number} deltaStates    states that arrived as deltas and were rebuilt
 * @property {number} deltaBytes     the payload bytes of those deltas
 * @property {number} rebuiltBytes   the bytes of the whole states they rebuilt (what they
 *   would have cost whole): `deltaBytes / rebuiltBytes` is what deltas cost in comparison
 * @property {number} deltaFailures  deltas dropped (their baseline was not held, or they did
 *   not apply): the game did not see those states, and the next one came whole
 * @property {number} compressedStates  states whose payload (whole or delta) came compressed
 *   and was inflated (the `compression` option)
 * @property {number} compressedBytes   the payload bytes of those, as they came
 * @property {number} inflatedBytes     the same payloads once inflated:
 *   `compressedBytes / inflatedBytes` is what compression saved
 * @property {number} inflateMs         time spent inflating, in milliseconds
 * @property {number} inflateFailures   compressed payloads dropped because they did not
 *   inflate (corrupt, over 16 MiB, or an unknown compression); the next state came whole
 */
/**
 * One room's baselines.
 * @typedef {object} RoomBaselines
 * @property {Array<{ tick: number, payload: Uint8Array }>} held  oldest first, ticks ascending
 * @property {boolean} reset  a `StateAck{tick: 0}` went out and no state was applied since
 * @property {number} ackedAt  when the last `StateAck` of a state applied went out (ms; 0: none yet)
 */
/**
 * A `State` envelope, as the codecs give it.
 * @typedef {object} StateMsg
 * @property {string} room
 * @property {unknown} tick
 * @property {Uint8Array} payload
 * @property {unknown} [baseline]  0 or absent: `payload` is whole
 * @property {unknown} [compression]  0 or absent: `payload` is as encoded; 1: raw DEFLATE
 */
export declare class Baselines {
    /** @private */
    private _now;
    /** @private */
    private _enabled;
    /** @private */
    private _sendAck;
    /** @private Whether the server of the current connection takes StateAck (its Welcome says so). */
    private _offered;
    /** @private @type {Map<string, RoomBaselines>} */
    private _rooms;
    /** @private @type {StateStats} */
    private _stats;
    /**
     * @param {boolean} enabled  acknowledge states (the server then sends deltas)
     * @param {(room: string, tick: number) => boolean} sendAck  sends `StateAck`; false when not connected
     * @param {() => number} [now]  the clock, in ms
     */
    constructor(enabled: boolean, sendAck: (room: string, tick: number) => boolean, now?: () => number);
    /** @returns {StateStats} the counts so far (a copy) */
    get stats(): StateStats;
    /**
     * The whole payload of a `State` of a room the client is in: its own
     * (inflated, if it came compressed), or rebuilt from the baseline its
     * delta names. Null when that failed: the state is dropped (counted, and
     * the server asked for a whole one).
     * @param {StateMsg} m
     * @returns {Uint8Array | null}
     */
    payloadOf(m: StateMsg): Uint8Array | null;
    /**
     * A compressed payload, inflated and counted; null (counted by the
     * caller) when it does not inflate.
     * @private
     * @param {unknown} compression  `State.compression`, not 0
     * @param {Uint8Array} payload
     * @returns {Uint8Array | null}
     */
    private _inflate;
    /**
     * The state of `tick` in `room`, whose whole payload is `payload`, reached
     * the game: kept as a baseline, and acknowledged if it came whole, is
     * the first since a loss, or the last ack of the room is ACK_INTERVAL_MS old.
     * @param {string} room
     * @param {unknown} tick
     * @param {Uint8Array} payload
     * @param {unknown} [baseline]  the state's `baseline` (0 or absent: it came whole)
     */
    applied(room: string, tick: unknown, payload: Uint8Array, baseline?: unknown): void;
    /**
     * One client event: a room joined (again, perhaps under another id) or
     * left starts without baselines, and so does a client that closed.
     * @template {keyof ClientEvents} K
     * @param {K} event
     * @param {ClientEvents[K]} payload
     */
    onClientEvent<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void;
    /**
     * Forgets the baselines of `room` (joined again, or left).
     * @param {string} room
     */
    forget(room: string): void;
    /** Forgets every baseline (a new connection, or the client closed). */
    clear(): void;
    /**
     * A new connection: its server sends whole states first, and deltas only
     * against states acked on it. `offered`: its `Welcome` says it takes
     * `StateAck` (`stateDeltas`); an older server would refuse the message,
     * so it never gets one.
     * @param {boolean} offered
     */
    attached(offered: boolean): void;
    /**
     * A state of `room` was dropped (a delta that did not apply, or a payload
     * that did not inflate; the caller counts it): the server is asked (once
     * until a state applies again) to send the next state whole.
     * @private
     * @param {string} room
     * @returns {null}
     */
    private _failed;
    /**
     * @private
     * @param {string} room
     * @returns {RoomBaselines}
     */
    private _room;
}
