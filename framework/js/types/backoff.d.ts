export type ReconnectOptions = {
    /**
     * delay scale of the first retry
     */
    baseMs?: number;
    /**
     * no retry waits longer than this
     */
    capMs?: number;
    /**
     * attempts before giving up (then `close`)
     */
    maxTries?: number;
    /**
     * jitter source in [0, 1); default `Math.random`
     */
    random?: () => number;
    /**
     * resume the session on reconnect (`Resume` with the
     * latest resume token and the highest reliable seq received): the server keeps the
     * seats and replays the missed reliable messages. `false`: every reconnect starts a
     * new session
     */
    resume?: boolean;
    /**
     * when the reconnect ends up on a new session (resume
     * refused or off), rejoin the rooms (the same room id; when it is gone, `joinOrCreate`
     * of the same room type). `false`: forget them, the app joins again itself on
     * `reconnected`
     */
    rejoin?: boolean;
};
export type ReconnectPolicy = {
    baseMs: number;
    capMs: number;
    maxTries: number;
    random: () => number;
    resume: boolean;
    rejoin: boolean;
};
/**
 * Reconnect settings (the `reconnect` option of {@link Client.connect}).
 * @typedef {object} ReconnectOptions
 * @property {number} [baseMs=250]   delay scale of the first retry
 * @property {number} [capMs=5000]   no retry waits longer than this
 * @property {number} [maxTries=8]   attempts before giving up (then `close`)
 * @property {() => number} [random] jitter source in [0, 1); default `Math.random`
 * @property {boolean} [resume=true] resume the session on reconnect (`Resume` with the
 *   latest resume token and the highest reliable seq received): the server keeps the
 *   seats and replays the missed reliable messages. `false`: every reconnect starts a
 *   new session
 * @property {boolean} [rejoin=true] when the reconnect ends up on a new session (resume
 *   refused or off), rejoin the rooms (the same room id; when it is gone, `joinOrCreate`
 *   of the same room type). `false`: forget them, the app joins again itself on
 *   `reconnected`
 */
/**
 * Reconnect settings with every field filled in.
 * @typedef {object} ReconnectPolicy
 * @property {number} baseMs
 * @property {number} capMs
 * @property {number} maxTries
 * @property {() => number} random
 * @property {boolean} resume
 * @property {boolean} rejoin
 */
/** Defaults of {@link ReconnectOptions}. */
export declare const DEFAULT_RECONNECT: Readonly<{
    baseMs: 250;
    capMs: 5000;
    maxTries: 8;
}>;
/**
 * Close codes after which the client does NOT reconnect:
 *
 * - 1000 normal close (our own `close()`, echoed by the server)
 * - 1002 protocol violation, 1003 unsupported data (a text frame),
 *   1007 invalid payload, 1009 message too big: this client sent something
 *   the server cannot take; doing it again would fail the same way
 * - 1008 policy violation (idle timeout today; rate limits and expired tokens later)
 * - 4001 unauthorized, 4003 forbidden (reserved for auth): retrying cannot fix them
 * - 4005 kicked by the room
 * - 4009 the session was resumed on another connection (another tab or
 *   device with the same resume token): reconnecting would take it back, and
 *   the other side would take it back again
 *
 * Everything else is retried: 1006 (connection dropped with no close frame:
 * server killed or restarted, network lost, 4008 "too slow" as usually seen),
 * 1001 going away, 1011 room crashed, 1012/1013 restart/try later, 4008, …
 */
export declare const FATAL_CLOSE_CODES: readonly number[];
/** Close code: the session was resumed on another connection (see {@link FATAL_CLOSE_CODES}). */
export declare const CLOSE_REPLACED = 4009;
/**
 * Whether a close with this code ends the client for good (see
 * {@link FATAL_CLOSE_CODES}).
 *
 * @param {number} code
 * @returns {boolean}
 */
export declare function isFatalClose(code: number): boolean;
/**
 * The delay before a reconnect attempt: exponential backoff with full jitter,
 * `random() × min(capMs, baseMs × 2^retry)`, i.e. uniformly in
 * `[0, min(capMs, baseMs × 2^retry))`. Pure: pass `random` to make it
 * deterministic.
 *
 * @param {number} retry  how many attempts have already failed (0 before the first)
 * @param {{ baseMs: number, capMs: number }} policy
 * @param {() => number} [random=Math.random] a number in [0, 1)
 * @returns {number} milliseconds, an integer
 */
export declare function backoffDelay(retry: number, policy: {
    baseMs: number;
    capMs: number;
}, random?: () => number): number;
/**
 * Normalises the `reconnect` option: `undefined`/`false` → null (disabled),
 * `true` → defaults, an object → defaults overridden by its fields.
 *
 * @param {ReconnectOptions | boolean | undefined | null} opt
 * @returns {ReconnectPolicy | null}
 * @throws {TypeError} on negative or non-finite numbers
 */
export declare function reconnectPolicy(opt: ReconnectOptions | boolean | undefined | null): ReconnectPolicy | null;
