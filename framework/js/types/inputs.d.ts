/**
 * How many unacknowledged inputs a room keeps at most. A room whose states
 * never list this client would otherwise grow the list without end; a
 * replay of more than this (34 s at 30 Hz) is of no use to a prediction.
 */
export declare const MAX_UNACKED = 1024;
/**
 * Whether input seq `seq` is newer than `than`, as RFC 1982 serial numbers
 * over 32 bits: `(seq - than) mod 2^32` is in 1 … 2^31-1. Seqs exactly 2^31
 * apart are not ordered (false), like the server's `is_newer`.
 * @param {number} seq
 * @param {number} than
 * @returns {boolean}
 */
export declare function isNewerSeq(seq: number, than: number): boolean;
/**
 * The seq after `seq`: one more, wrapping from 2^32-1 to 0.
 * @param {number} seq
 * @returns {number}
 */
export declare function nextSeq(seq: number): number;
export type SentInput = {
    /**
     * the seq the SDK gave it
     */
    seq: number;
    /**
     * the game's Input, as passed to `Room#send`
     */
    input: object;
};
/**
 * An input a room handle sent, as the game gave it.
 * @typedef {object} SentInput
 * @property {number} seq    the seq the SDK gave it
 * @property {object} input  the game's Input, as passed to `Room#send`
 */
/**
 * The inputs of one seat: the last seq sent, the last acknowledged, and
 * the ones in between that were neither acknowledged nor dropped.
 */
export declare class InputLog {
    /** @private */
    private _max;
    /** The seq of the last input sent (0: none yet). */
    sent: number;
    /** The server's ack for this seat: the newest seq it processed (0: none yet). */
    acked: number;
    /** @private @type {SentInput[]} oldest first */
    private _unacked;
    /** @param {number} [max=MAX_UNACKED]  inputs kept at most (the oldest go first) */
    constructor(max?: number);
    /** A new seat: numbering starts over at 1, nothing is acknowledged or pending. */
    reset(): void;
    /** The seq the next input gets. */
    get next(): number;
    /**
     * Records an input that went out with `seq`.
     * @param {number} seq
     * @param {object} input
     */
    record(seq: number, input: object): void;
    /**
     * Takes the ack of a state. An ack that is not newer than the one held
     * (a late or repeated state) changes nothing.
     * @param {number} seq
     * @returns {SentInput[]} the inputs this ack covers, oldest first
     */
    ack(seq: number): SentInput[];
    /**
     * Forgets an input the server named as dropped: it was never processed,
     * so a prediction must not replay it.
     * @param {number} seq
     * @returns {SentInput | null} the input, if it was still pending
     */
    drop(seq: number): SentInput | null;
    /** @returns {SentInput[]} a copy of the pending inputs, oldest first */
    unacked(): SentInput[];
}
