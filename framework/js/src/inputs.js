// Input sequence numbers on the client side: a room handle numbers the
// game's inputs itself and keeps the ones the server has not processed yet,
// for the game's prediction to replay. Seqs wrap at 2^32 and are compared
// as RFC 1982 serial numbers, the rule the server acks by (docs/protocol.md
// §6, playhouse::protocol::input_seq): a plain `<=` would call every input
// after a wrap "already acked".

/**
 * How many unacknowledged inputs a room keeps at most. A room whose states
 * never list this client would otherwise grow the list without end; a
 * replay of more than this (34 s at 30 Hz) is of no use to a prediction.
 */
export const MAX_UNACKED = 1024;

/**
 * Whether input seq `seq` is newer than `than`, as RFC 1982 serial numbers
 * over 32 bits: `(seq - than) mod 2^32` is in 1 … 2^31-1. Seqs exactly 2^31
 * apart are not ordered (false), like the server's `is_newer`.
 * @param {number} seq
 * @param {number} than
 * @returns {boolean}
 */
export function isNewerSeq(seq, than) {
  const d = (seq - than) >>> 0;
  return d !== 0 && d < 0x80000000;
}

/**
 * The seq after `seq`: one more, wrapping from 2^32-1 to 0.
 * @param {number} seq
 * @returns {number}
 */
export function nextSeq(seq) {
  return (seq + 1) >>> 0;
}

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
export class InputLog {
  /** @param {number} [max=MAX_UNACKED]  inputs kept at most (the oldest go first) */
  constructor(max = MAX_UNACKED) {
    /** @private */
    this._max = max;
    /** The seq of the last input sent (0: none yet). */
    this.sent = 0;
    /** The server's ack for this seat: the newest seq it processed (0: none yet). */
    this.acked = 0;
    /** @private @type {SentInput[]} oldest first */
    this._unacked = [];
  }

  /** A new seat: numbering starts over at 1, nothing is acknowledged or pending. */
  reset() {
    this.sent = 0;
    this.acked = 0;
    this._unacked = [];
  }

  /** The seq the next input gets. */
  get next() {
    return nextSeq(this.sent);
  }

  /**
   * Records an input that went out with `seq`.
   * @param {number} seq
   * @param {object} input
   */
  record(seq, input) {
    this.sent = seq;
    this._unacked.push({ seq, input });
    if (this._unacked.length > this._max) this._unacked.shift();
  }

  /**
   * Takes the ack of a state. An ack that is not newer than the one held
   * (a late or repeated state) changes nothing.
   * @param {number} seq
   * @returns {SentInput[]} the inputs this ack covers, oldest first
   */
  ack(seq) {
    if (!isNewerSeq(seq, this.acked)) return [];
    this.acked = seq;
    const covered = this._unacked.filter((e) => !isNewerSeq(e.seq, seq));
    if (covered.length) this._unacked = this._unacked.filter((e) => isNewerSeq(e.seq, seq));
    return covered;
  }

  /**
   * Forgets an input the server named as dropped: it was never processed,
   * so a prediction must not replay it.
   * @param {number} seq
   * @returns {SentInput | null} the input, if it was still pending
   */
  drop(seq) {
    const i = this._unacked.findIndex((e) => e.seq === seq);
    if (i < 0) return null;
    return this._unacked.splice(i, 1)[0];
  }

  /** @returns {SentInput[]} a copy of the pending inputs, oldest first */
  unacked() {
    return this._unacked.slice();
  }
}
