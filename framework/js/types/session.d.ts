export type AckOptions = {
    /**
     * send an `Ack` this long after the first
     * unacknowledged reliable message arrived
     */
    intervalMs?: number;
    /**
     * ... or at once when this many are unacknowledged
     */
    every?: number;
};
export type AckPolicy = {
    intervalMs: number;
    every: number;
};
/**
 * When to acknowledge reliable messages (the `ack` option of
 * {@link import('./client.js').Client.connect}).
 * @typedef {object} AckOptions
 * @property {number} [intervalMs=1000]  send an `Ack` this long after the first
 *   unacknowledged reliable message arrived
 * @property {number} [every=64]  ... or at once when this many are unacknowledged
 */
/**
 * @typedef {object} AckPolicy
 * @property {number} intervalMs
 * @property {number} every
 */
/** Defaults of {@link AckOptions}. */
export declare const DEFAULT_ACK: Readonly<{
    intervalMs: 1000;
    every: 64;
}>;
/**
 * Normalises the `ack` option: omitted or `true` → defaults, `false` → no
 * acks (the server then keeps up to its bound of messages per session).
 * @param {AckOptions | boolean | undefined | null} opt
 * @returns {AckPolicy | null}
 * @throws {TypeError} on a bad number
 */
export declare function ackPolicy(opt: AckOptions | boolean | undefined | null): AckPolicy | null;
/**
 * `ServerMsg.seq` as a number (0: absent or not a number). The codecs give
 * numbers; a bigint or a protobufjs Long is converted too.
 * @param {unknown} v
 * @returns {number}
 */
export declare function toSeq(v: unknown): number;
export type SeqVerdict = 'next' | 'duplicate' | 'gap';
/**
 * What `accept` says about a reliable message.
 * - `next`: the next one, in order
 * - `duplicate`: seq <= lastSeq, already seen: drop it
 * - `gap`: later than the next one although no resync was announced (some
 *   were skipped; it is taken anyway)
 * @typedef {'next' | 'duplicate' | 'gap'} SeqVerdict
 */
export declare class SessionTracker {
    /** @private */
    private _ack;
    /** @private */
    private _sendAck;
    /** The session id (`Welcome.session`, then `Resumed.session`). */
    id: string;
    /** The latest resume token (`Welcome.resumeToken`, then each `Resumed.resumeToken`). */
    token: string;
    /** The highest reliable seq received in this session. */
    lastSeq: number;
    /** The highest seq the server knows we have (sent in an `Ack` or a `Resume`). */
    acked: number;
    /** The next seq may jump (after a resync: the missed messages are gone). */
    jumpOk: boolean;
    /** Reliable messages dropped as duplicates, in this client's life. */
    duplicates: number;
    /** While false, no `Ack` goes out (a `Resume` must be the first message). */
    mayAck: boolean;
    /** @private @type {ReturnType<typeof setTimeout> | null} */
    private _timer;
    /**
     * @param {AckPolicy | null} ack
     * @param {(seq: number) => boolean} sendAck  sends `Ack{seq}`; false when it could not
     */
    constructor(ack: AckPolicy | null, sendAck: (seq: number) => boolean);
    /**
     * A new session begins (the first connection, or a resume was refused):
     * its id and token from the connection's `Welcome`; seqs start over.
     * @param {{ session?: unknown, resumeToken?: unknown }} welcome
     */
    begin(welcome: {
        session?: unknown;
        resumeToken?: unknown;
    }): void;
    /**
     * The server answered `Resumed`: the same session goes on, with a fresh
     * token; the resume acknowledged everything up to lastSeq.
     * @param {{ session?: unknown, resumeToken?: unknown, resync?: unknown }} resumed
     */
    resumed(resumed: {
        session?: unknown;
        resumeToken?: unknown;
        resync?: unknown;
    }): void;
    /**
     * A reliable message with `seq` (> 0) arrived.
     * @param {number} seq
     * @returns {SeqVerdict}
     */
    accept(seq: number): SeqVerdict;
    /** Call after a reliable message was handled: acks now or schedules one. */
    noteReliable(): void;
    /** Sends an `Ack` for everything received, if anything is unacknowledged. */
    flushAck(): void;
    /** Drops a scheduled `Ack` (the connection is gone; the resume will ack). */
    cancelAck(): void;
}
