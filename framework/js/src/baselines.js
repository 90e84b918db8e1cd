// The states a room may send as deltas against (`State.baseline`,
// `StateAck`; docs/protocol.md §4.5), as the client keeps them: per room,
// the whole payloads of the latest states applied, by tick. A state that
// arrives as a delta is rebuilt here from the one it names, before it is
// decoded, so the game only ever sees whole states.
//
// States applied are acknowledged (`StateAck{room, tick}`): a whole state
// at once, the first after a loss at once, and otherwise at most once per
// ACK_INTERVAL_MS per room (acking every state of a 60 Hz room would double
// what the client sends). The server keeps the highest tick acknowledged
// and sends later states of the room as deltas against it. A delta whose baseline is not held, or that does
// not apply, is dropped and answered with `StateAck{room, tick: 0}`: the
// server forgets the baseline and sends the next state whole. Every new
// connection starts without baselines (the server sends whole states first
// after a resume, a join, a room restart or a failover), and so does a
// room joined again or left.
//
// A payload that came compressed (`State.compression`, docs/protocol.md
// §4.6; compress.js) is inflated here first, whether deltas are on or not:
// before its delta is applied, and before it is decoded. One that does not
// inflate is dropped like a delta that does not apply.

import { applyDelta } from './delta.js';
import { toSeq } from './session.js';
import { DeltaError, InflateError } from './errors.js';
import { inflateState } from './compress.js';

/** The most payloads kept per room (the server's baseline is a round trip old: a few). */
export const MAX_HISTORY = 64;

/**
 * The longest state a delta may rebuild: far above any state a room sends
 * tens of times a second, low enough that a broken delta cannot make the
 * client allocate much.
 */
export const MAX_STATE_BYTES = 4 * 1024 * 1024;

/** How often a room's delta states are acknowledged at most, in ms (as the Rust client). */
export const ACK_INTERVAL_MS = 100;

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

export class Baselines {
  /**
   * @param {boolean} enabled  acknowledge states (the server then sends deltas)
   * @param {(room: string, tick: number) => boolean} sendAck  sends `StateAck`; false when not connected
   * @param {() => number} [now]  the clock, in ms
   */
  constructor(enabled, sendAck, now = () => Date.now()) {
    /** @private */
    this._now = now;
    /** @private */
    this._enabled = enabled;
    /** @private */
    this._sendAck = sendAck;
    /** @private Whether the server of the current connection takes StateAck (its Welcome says so). */
    this._offered = false;
    /** @private @type {Map<string, RoomBaselines>} */
    this._rooms = new Map();
    /** @private @type {StateStats} */
    this._stats = {
      wholeStates: 0,
      wholeBytes: 0,
      deltaStates: 0,
      deltaBytes: 0,
      rebuiltBytes: 0,
      deltaFailures: 0,
      compressedStates: 0,
      compressedBytes: 0,
      inflatedBytes: 0,
      inflateMs: 0,
      inflateFailures: 0,
    };
  }

  /** @returns {StateStats} the counts so far (a copy) */
  get stats() {
    return { ...this._stats };
  }

  /**
   * The whole payload of a `State` of a room the client is in: its own
   * (inflated, if it came compressed), or rebuilt from the baseline its
   * delta names. Null when that failed: the state is dropped (counted, and
   * the server asked for a whole one).
   * @param {StateMsg} m
   * @returns {Uint8Array | null}
   */
  payloadOf(m) {
    const s = this._stats;
    const payload = m.compression ? this._inflate(m.compression, m.payload) : m.payload;
    if (!payload) {
      s.inflateFailures++;
      return this._failed(m.room);
    }
    const baseline = toSeq(m.baseline);
    if (baseline === 0) {
      s.wholeStates++;
      s.wholeBytes += payload.length;
      return payload;
    }
    const rb = this._rooms.get(m.room);
    const at = rb ? rb.held.findIndex((h) => h.tick === baseline) : -1;
    const whole = rb && at >= 0 ? rebuild(rb.held[at].payload, payload) : null;
    if (!rb || !whole) {
      s.deltaFailures++;
      return this._failed(m.room);
    }
    // The server never goes back to an older baseline (acks only grow).
    rb.held.splice(0, at);
    s.deltaStates++;
    s.deltaBytes += payload.length;
    s.rebuiltBytes += whole.length;
    return whole;
  }

  /**
   * A compressed payload, inflated and counted; null (counted by the
   * caller) when it does not inflate.
   * @private
   * @param {unknown} compression  `State.compression`, not 0
   * @param {Uint8Array} payload
   * @returns {Uint8Array | null}
   */
  _inflate(compression, payload) {
    const s = this._stats;
    const started = performance.now();
    let inflated = null;
    try {
      inflated = inflateState(compression, payload);
    } catch (e) {
      if (!(e instanceof InflateError)) throw e;
    }
    s.inflateMs += performance.now() - started;
    if (!inflated) return null;
    s.compressedStates++;
    s.compressedBytes += payload.length;
    s.inflatedBytes += inflated.length;
    return inflated;
  }

  /**
   * The state of `tick` in `room`, whose whole payload is `payload`, reached
   * the game: kept as a baseline, and acknowledged if it came whole, is
   * the first since a loss, or the last ack of the room is ACK_INTERVAL_MS old.
   * @param {string} room
   * @param {unknown} tick
   * @param {Uint8Array} payload
   * @param {unknown} [baseline]  the state's `baseline` (0 or absent: it came whole)
   */
  applied(room, tick, payload, baseline) {
    if (!this._enabled || !this._offered) return;
    const t = toSeq(tick);
    if (t === 0) return; // no tick to name it by
    const rb = this._room(room);
    // A tick not after the newest held: the room started over. What it held is of before.
    if (rb.held.length && rb.held[rb.held.length - 1].tick >= t) rb.held.length = 0;
    // A copy: the decoded state may hold views of the payload, which the game could change.
    rb.held.push({ tick: t, payload: payload.slice() });
    if (rb.held.length > MAX_HISTORY) rb.held.shift();
    const now = this._now();
    const due = toSeq(baseline) === 0 || rb.reset || now - rb.ackedAt >= ACK_INTERVAL_MS;
    rb.reset = false;
    if (due && this._sendAck(room, t)) rb.ackedAt = now;
  }

  /**
   * One client event: a room joined (again, perhaps under another id) or
   * left starts without baselines, and so does a client that closed.
   * @template {keyof ClientEvents} K
   * @param {K} event
   * @param {ClientEvents[K]} payload
   */
  onClientEvent(event, payload) {
    if (event === 'joined') {
      const j = /** @type {import('./types.js').JoinResult} */ (payload);
      this.forget(j.room);
      if (j.previous !== undefined) this.forget(j.previous);
    } else if (event === 'left') {
      this.forget(/** @type {import('./types.js').LeftEvent} */ (payload).room);
    } else if (event === 'close') {
      this.clear();
    }
  }

  /**
   * Forgets the baselines of `room` (joined again, or left).
   * @param {string} room
   */
  forget(room) {
    this._rooms.delete(room);
  }

  /** Forgets every baseline (a new connection, or the client closed). */
  clear() {
    this._rooms.clear();
  }

  /**
   * A new connection: its server sends whole states first, and deltas only
   * against states acked on it. `offered`: its `Welcome` says it takes
   * `StateAck` (`stateDeltas`); an older server would refuse the message,
   * so it never gets one.
   * @param {boolean} offered
   */
  attached(offered) {
    this.clear();
    this._offered = offered;
  }

  /**
   * A state of `room` was dropped (a delta that did not apply, or a payload
   * that did not inflate; the caller counts it): the server is asked (once
   * until a state applies again) to send the next state whole.
   * @private
   * @param {string} room
   * @returns {null}
   */
  _failed(room) {
    if (!this._enabled || !this._offered) return null;
    const rb = this._room(room);
    if (!rb.reset) rb.reset = this._sendAck(room, 0);
    return null;
  }

  /**
   * @private
   * @param {string} room
   * @returns {RoomBaselines}
   */
  _room(room) {
    let rb = this._rooms.get(room);
    if (!rb) this._rooms.set(room, (rb = { held: [], reset: false, ackedAt: 0 }));
    return rb;
  }
}

/**
 * `delta` applied to `baseline`, or null when it is malformed.
 * @param {Uint8Array} baseline
 * @param {Uint8Array} delta
 * @returns {Uint8Array | null}
 */
function rebuild(baseline, delta) {
  try {
    return applyDelta(baseline, delta, MAX_STATE_BYTES);
  } catch (e) {
    if (e instanceof DeltaError) return null;
    throw e;
  }
}
