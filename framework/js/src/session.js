// The session as the client sees it: its id and latest resume token, the
// highest reliable seq received (ServerMsg.seq: Joined, JoinError, Left,
// Message, Redirect, and the channel messages Subscribed, Publication,
// PresenceChange, ChannelError), duplicate detection, and the acks that let the server trim its
// replay buffer. Plain state plus one timer; client.js owns one.

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
export const DEFAULT_ACK = Object.freeze({ intervalMs: 1000, every: 64 });

/**
 * Normalises the `ack` option: omitted or `true` → defaults, `false` → no
 * acks (the server then keeps up to its bound of messages per session).
 * @param {AckOptions | boolean | undefined | null} opt
 * @returns {AckPolicy | null}
 * @throws {TypeError} on a bad number
 */
export function ackPolicy(opt) {
  if (opt === false) return null;
  const o = opt === undefined || opt === null || opt === true ? {} : opt;
  const policy = { intervalMs: o.intervalMs ?? DEFAULT_ACK.intervalMs, every: o.every ?? DEFAULT_ACK.every };
  for (const k of /** @type {const} */ (['intervalMs', 'every'])) {
    if (typeof policy[k] !== 'number' || !Number.isFinite(policy[k]) || policy[k] < 1) {
      throw new TypeError(`playhouse-client: ack.${k} must be a finite number >= 1, got ${String(policy[k])}`);
    }
  }
  return policy;
}

/**
 * `ServerMsg.seq` as a number (0: absent or not a number). The codecs give
 * numbers; a bigint or a protobufjs Long is converted too.
 * @param {unknown} v
 * @returns {number}
 */
export function toSeq(v) {
  if (typeof v === 'number') return Number.isFinite(v) && v > 0 ? v : 0;
  if (typeof v === 'bigint') return v > 0n ? Number(v) : 0;
  if (v && typeof v === 'object' && 'toNumber' in v && typeof v.toNumber === 'function') return toSeq(v.toNumber());
  return 0;
}

/**
 * What `accept` says about a reliable message.
 * - `next`: the next one, in order
 * - `duplicate`: seq <= lastSeq, already seen: drop it
 * - `gap`: later than the next one although no resync was announced (some
 *   were skipped; it is taken anyway)
 * @typedef {'next' | 'duplicate' | 'gap'} SeqVerdict
 */

export class SessionTracker {
  /**
   * @param {AckPolicy | null} ack
   * @param {(seq: number) => boolean} sendAck  sends `Ack{seq}`; false when it could not
   */
  constructor(ack, sendAck) {
    /** @private */
    this._ack = ack;
    /** @private */
    this._sendAck = sendAck;
    /** The session id (`Welcome.session`, then `Resumed.session`). */
    this.id = '';
    /** The latest resume token (`Welcome.resumeToken`, then each `Resumed.resumeToken`). */
    this.token = '';
    /** The highest reliable seq received in this session. */
    this.lastSeq = 0;
    /** The highest seq the server knows we have (sent in an `Ack` or a `Resume`). */
    this.acked = 0;
    /** The next seq may jump (after a resync: the missed messages are gone). */
    this.jumpOk = false;
    /** Reliable messages dropped as duplicates, in this client's life. */
    this.duplicates = 0;
    /** While false, no `Ack` goes out (a `Resume` must be the first message). */
    this.mayAck = true;
    /** @private @type {ReturnType<typeof setTimeout> | null} */
    this._timer = null;
  }

  /**
   * A new session begins (the first connection, or a resume was refused):
   * its id and token from the connection's `Welcome`; seqs start over.
   * @param {{ session?: unknown, resumeToken?: unknown }} welcome
   */
  begin(welcome) {
    this.id = String(welcome.session ?? '');
    this.token = typeof welcome.resumeToken === 'string' ? welcome.resumeToken : '';
    this.lastSeq = 0;
    this.acked = 0;
    this.jumpOk = false;
    this.mayAck = true;
    this.cancelAck();
  }

  /**
   * The server answered `Resumed`: the same session goes on, with a fresh
   * token; the resume acknowledged everything up to lastSeq.
   * @param {{ session?: unknown, resumeToken?: unknown, resync?: unknown }} resumed
   */
  resumed(resumed) {
    this.id = String(resumed.session ?? this.id);
    if (typeof resumed.resumeToken === 'string' && resumed.resumeToken) this.token = resumed.resumeToken;
    this.acked = Math.max(this.acked, this.lastSeq);
    if (resumed.resync) this.jumpOk = true;
    this.mayAck = true;
  }

  /**
   * A reliable message with `seq` (> 0) arrived.
   * @param {number} seq
   * @returns {SeqVerdict}
   */
  accept(seq) {
    if (seq <= this.lastSeq) {
      this.duplicates += 1;
      return 'duplicate';
    }
    const verdict = seq === this.lastSeq + 1 || this.jumpOk ? 'next' : 'gap';
    this.jumpOk = false;
    this.lastSeq = seq;
    return verdict;
  }

  /** Call after a reliable message was handled: acks now or schedules one. */
  noteReliable() {
    const ack = this._ack;
    if (!ack) return;
    if (this.lastSeq - this.acked >= ack.every) {
      this.flushAck();
    } else if (!this._timer) {
      this._timer = setTimeout(() => {
        this._timer = null;
        this.flushAck();
      }, ack.intervalMs);
    }
  }

  /** Sends an `Ack` for everything received, if anything is unacknowledged. */
  flushAck() {
    this.cancelAck();
    if (!this._ack || !this.mayAck || this.lastSeq <= this.acked) return;
    if (this._sendAck(this.lastSeq)) this.acked = this.lastSeq;
  }

  /** Drops a scheduled `Ack` (the connection is gone; the resume will ack). */
  cancelAck() {
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
  }
}
