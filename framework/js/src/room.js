// The room handle a join returns, and the seats behind the handles.
//
// A handle stands for one seat of this client in one room, across resumes
// (the same seat goes on) and rejoins after a new session (a new seat,
// perhaps in another room of the same type: the handle follows it). It
// numbers the game's inputs, takes the seat's acknowledgement from every
// state, and keeps the inputs sent but not yet processed, for the game's
// prediction to replay; inputs the server names as dropped leave that list.
//
// The handles see the client only through the events it emits (routed here
// by RoomHandles before any listener of the app), the leaves it starts, and
// a RoomHost of two methods; nothing here touches the connection.

import { Emitter } from './emitter.js';
import { InputLog } from './inputs.js';

/** @typedef {import('./types.js').JoinResult} JoinResult */
/** @typedef {import('./types.js').LeftEvent} LeftEvent */
/** @typedef {import('./types.js').StateEvent} StateEvent */
/** @typedef {import('./types.js').RoomMessage} RoomMessage */
/** @typedef {import('./types.js').ServerError} ServerError */
/** @typedef {import('./types.js').RoomState} RoomState */
/** @typedef {import('./types.js').DroppedInput} DroppedInput */
/** @typedef {import('./types.js').RejoinedEvent} RejoinedEvent */
/** @typedef {import('./types.js').RoomEvents} RoomEvents */
/** @typedef {import('./types.js').ClientEvents} ClientEvents */
/** @typedef {import('./inputs.js').SentInput} SentInput */

/**
 * What the handles need from their client.
 * @typedef {object} RoomHost
 * @property {(room: string, seq: number, input: object) => boolean} sendInput  false: not sent
 * @property {(room: string) => Promise<LeftEvent>} leave
 */

/**
 * One seat and what the handle delivers of it. Internal: the app holds the
 * {@link Room} in front of it.
 * @extends {Emitter<RoomEvents>}
 */
class Seat extends Emitter {
  /** @param {JoinResult} joined */
  constructor(joined) {
    super();
    /** @type {JoinResult} the join this seat came from (room id, client id, …) */
    this.joined = { room: joined.room, roomType: joined.roomType, tickHz: joined.tickHz, client: joined.client, request: joined.request };
    /** The inputs sent on this seat. */
    this.inputs = new InputLog();
    /** @type {'active' | 'leaving' | 'ended'} */
    this.status = 'active';
  }

  /** @param {StateEvent} s */
  state(s) {
    const me = this.joined.client;
    const own = s.acks.find((a) => Number(a.client) === me);
    const acked = own ? this.inputs.ack(Number(own.seq) >>> 0) : [];
    this.emit('state', { ...s, ackedSeq: this.inputs.acked, acked });
  }

  /** @param {RoomMessage} m */
  message(m) {
    this.emit('message', m);
  }

  /** @param {ServerError & { inputSeq: number }} e  an error that names one of this seat's inputs */
  dropped(e) {
    const sent = this.inputs.drop(e.inputSeq);
    this.emit('inputDropped', { seq: e.inputSeq, code: e.code, reason: e.reason, input: sent ? sent.input : null });
  }

  /**
   * A new seat for this handle (after a new session).
   * @param {JoinResult & { previous: string }} j
   */
  reseat(j) {
    this.joined = { room: j.room, roomType: j.roomType, tickHz: j.tickHz, client: j.client, request: j.request };
    this.inputs.reset();
    this.emit('rejoined', { room: j.room, previous: j.previous, roomType: j.roomType, tickHz: j.tickHz, client: j.client });
  }

  /**
   * The seat is gone: `leave` is emitted once.
   * @param {LeftEvent} left
   */
  end(left) {
    if (this.status === 'ended') return;
    this.status = 'ended';
    this.emit('leave', left);
  }
}

/**
 * What stands behind each handle. Kept out of the handle's own fields, so a
 * Room's enumerable fields are exactly those of the {@link JoinResult}.
 * @type {WeakMap<Room, { seat: Seat, host: RoomHost }>}
 */
const inner = new WeakMap();

/**
 * @param {Room} room
 * @returns {{ seat: Seat, host: RoomHost }}
 */
function innerOf(room) {
  return /** @type {{ seat: Seat, host: RoomHost }} */ (inner.get(room));
}

/**
 * @param {Room} room
 * @returns {Seat}
 */
function seatOf(room) {
  return innerOf(room).seat;
}

/**
 * The handle of one room this client joined: what {@link Client#join},
 * {@link Client#joinOrCreate} and {@link Client#create} resolve with.
 *
 * It stays valid across reconnects: after a resume the same seat goes on;
 * after a new session the SDK joins again and the handle follows the new
 * seat ({@link Room#onRejoined}): {@link Room#id} and {@link Room#clientId}
 * are always the current ones. It ends once ({@link Room#onLeave}) when the
 * seat is gone for good.
 *
 * Inputs: {@link Room#send} numbers them 1, 2, 3, … (wrapping from 2^32-1
 * to 0); every state updates {@link Room#ackedSeq} from the seat's entry in
 * `State.acks`, compared as RFC 1982 serial numbers, and
 * {@link Room#unacked} holds what a prediction replays on top of the
 * server's state.
 *
 * A Room is also the {@link JoinResult} of the join that made it: `room`,
 * `roomType`, `tickHz`, `client` and `request` are that answer, and do not
 * change with a rejoin.
 */
export class Room {
  /**
   * Made by the client; not constructed by the app.
   * @param {Seat} seat
   * @param {RoomHost} host
   */
  constructor(seat, host) {
    const j = seat.joined;
    /**
     * The room id the join answered (the current one is {@link Room#id}).
     * @readonly
     */
    this.room = j.room;
    /**
     * The room type, e.g. `arena`.
     * @readonly
     */
    this.roomType = j.roomType;
    /**
     * Ticks per second of the room.
     * @readonly
     */
    this.tickHz = j.tickHz;
    /**
     * The client id the join answered (the current one is {@link Room#clientId}).
     * @readonly
     */
    this.client = j.client;
    /**
     * The request id of the join.
     * @readonly
     */
    this.request = j.request;
    inner.set(this, { seat, host });
  }

  /** The id of the room the seat is in now (another one after a rejoin into a new room). */
  get id() {
    return seatOf(this).joined.room;
  }

  /** This client's id in the room now (its entry in `State.acks`); new after a rejoin. */
  get clientId() {
    return seatOf(this).joined.client;
  }

  /** Whether the seat is still there: false once `leave()` was called or the handle ended. */
  get active() {
    return seatOf(this).status === 'active';
  }

  /** The seq of the last input sent (0: none yet on this seat). */
  get sentSeq() {
    return seatOf(this).inputs.sent;
  }

  /**
   * The seat's acknowledged input seq: the newest the server has processed
   * (0: none yet). It never moves back; a late or stale state leaves it.
   */
  get ackedSeq() {
    return seatOf(this).inputs.acked;
  }

  /**
   * The inputs sent and neither acknowledged nor dropped, oldest first (a
   * copy): what a prediction replays on top of the latest state.
   * @returns {SentInput[]}
   */
  get unacked() {
    return seatOf(this).inputs.unacked();
  }

  /**
   * Sends a game input, numbered by the handle. Returns its seq, or null
   * when nothing was sent (not connected, e.g. during a reconnect, or the
   * room was left): inputs are intent, send the next one. A seq is used
   * only by an input that went out.
   * @param {object} input  the game's Input of the negotiated version, camelCase fields
   * @returns {number | null}
   * @throws {TypeError} when the input does not encode
   */
  send(input) {
    const { seat, host } = innerOf(this);
    if (seat.status !== 'active') return null;
    const seq = seat.inputs.next;
    if (!host.sendInput(seat.joined.room, seq, input)) return null;
    seat.inputs.record(seq, input);
    return seq;
  }

  /**
   * Leaves the room ({@link Client#leave}): its frames stop at once, and
   * the promise resolves with the server's `Left`. `onLeave` follows.
   * @returns {Promise<LeftEvent>}
   */
  leave() {
    const { seat, host } = innerOf(this);
    return host.leave(seat.joined.room);
  }

  /**
   * Calls `fn` with every state of the room, after the seat's ack was taken
   * from it ({@link RoomState}).
   * @param {(state: RoomState) => void} fn
   * @returns {() => void} removes the listener
   */
  onState(fn) {
    return seatOf(this).on('state', fn);
  }

  /**
   * Calls `fn` with every reliable message of the room.
   * @param {(message: RoomMessage) => void} fn
   * @returns {() => void} removes the listener
   */
  onMessage(fn) {
    return seatOf(this).on('message', fn);
  }

  /**
   * Calls `fn` once when the seat is gone for good: the server's `Left`
   * (after `leave()`, a kick, the room disposed or crashed), a resume that
   * no longer lists the room, a rejoin that failed or was not tried
   * (`reconnect.rejoin: false`), or the client closed. Local causes have
   * `reason` 0 and say what happened in `detail`.
   * @param {(left: LeftEvent) => void} fn
   * @returns {() => void} removes the listener
   */
  onLeave(fn) {
    return seatOf(this).on('leave', fn);
  }

  /**
   * Calls `fn` for each input the server named as never processed (1013
   * room busy, 4003 refused, 4004 not in the room). The input has left
   * {@link Room#unacked} by then; a later ack does not mean it was applied.
   * @param {(dropped: DroppedInput) => void} fn
   * @returns {() => void} removes the listener
   */
  onInputDropped(fn) {
    return seatOf(this).on('inputDropped', fn);
  }

  /**
   * Calls `fn` when the SDK joined again after a new session: a new seat,
   * perhaps in another room ({@link RejoinedEvent}); the input seq starts
   * over. Not called after a resume (the seat is the same).
   * @param {(rejoined: RejoinedEvent) => void} fn
   * @returns {() => void} removes the listener
   */
  onRejoined(fn) {
    return seatOf(this).on('rejoined', fn);
  }

  /** @returns {JoinResult} the join that made this handle, as a plain object */
  toJSON() {
    return { room: this.room, roomType: this.roomType, tickHz: this.tickHz, client: this.client, request: this.request };
  }
}

/**
 * The handles of one client, by room id. The client routes every event it
 * emits through {@link RoomHandles#route}, before its own listeners.
 */
export class RoomHandles {
  /** @param {RoomHost} host */
  constructor(host) {
    /** @private */
    this._host = host;
    /** @private @type {Map<string, { seat: Seat, room: Room }>} by room id: the seats not ended */
    this._live = new Map();
    /** @private @type {Map<number, Room>} handles made for a join, until its promise takes them */
    this._fresh = new Map();
  }

  /**
   * The handle of `room`, while its seat lasts.
   * @param {string} room
   * @returns {Room | null}
   */
  get(room) {
    const h = this._live.get(room);
    return h ? h.room : null;
  }

  /**
   * The handle a join resolves with: made when its `Joined` was routed,
   * before any frame after it.
   * @param {JoinResult} j
   * @returns {Room}
   */
  take(j) {
    const made = this._fresh.get(j.request);
    if (made) {
      this._fresh.delete(j.request);
      return made;
    }
    return this.get(j.room) ?? this._open(j).room;
  }

  /**
   * `leave(room)` was called: the handle stops at once and ends when the
   * leave settles (with the server's `Left`, or what the client resolved
   * instead).
   * @param {string} room
   * @param {Promise<LeftEvent>} leaving
   */
  leaving(room, leaving) {
    const h = this._live.get(room);
    if (!h || h.seat.status !== 'active') return;
    h.seat.status = 'leaving';
    leaving.then(
      (left) => this._end(h.seat, left),
      (/** @type {unknown} */ e) => this._end(h.seat, { room, reason: 0, detail: e instanceof Error ? e.message : String(e) }),
    );
  }

  /**
   * One client event, before the app's listeners see it.
   * @template {keyof ClientEvents} K
   * @param {K} event
   * @param {ClientEvents[K]} payload
   */
  route(event, payload) {
    switch (event) {
      case 'joined':
        this._joined(/** @type {JoinResult} */ (payload));
        return;
      case 'state': {
        const s = /** @type {StateEvent} */ (payload);
        this._active(s.room)?.state(s);
        return;
      }
      case 'message': {
        const m = /** @type {RoomMessage} */ (payload);
        this._active(m.room)?.message(m);
        return;
      }
      case 'error': {
        const e = /** @type {ServerError} */ (payload);
        if (e.room && typeof e.inputSeq === 'number') this._active(e.room)?.dropped({ ...e, inputSeq: e.inputSeq });
        return;
      }
      case 'left': {
        const l = /** @type {LeftEvent} */ (payload);
        const h = this._live.get(l.room);
        if (h) this._end(h.seat, l);
        return;
      }
      case 'reconnected': {
        const r = /** @type {import('./types.js').ReconnectedEvent} */ (payload);
        // A seat neither kept nor rejoined is gone.
        const now = new Set(r.rooms.map((x) => x.room));
        for (const [room, h] of [...this._live]) {
          if (now.has(room) || h.seat.status !== 'active') continue;
          const failed = r.failed.find((f) => f.room === room);
          const detail = failed ? `could not rejoin: ${failed.error.message}` : 'not rejoined after a new session';
          this._end(h.seat, { room, reason: 0, detail });
        }
        return;
      }
      case 'close': {
        const c = /** @type {import('./types.js').CloseInfo} */ (payload);
        const detail = `the client closed (${c.code}${c.reason ? ` ${c.reason}` : ''})`;
        for (const [room, h] of [...this._live]) this._end(h.seat, { room, reason: 0, detail });
        this._fresh.clear();
        return;
      }
      default:
        return;
    }
  }

  /**
   * @private
   * @param {string} room
   * @returns {Seat | null} the seat of `room`, when it takes frames
   */
  _active(room) {
    const h = this._live.get(room);
    return h && h.seat.status === 'active' ? h.seat : null;
  }

  /**
   * @private
   * @param {JoinResult} j
   */
  _joined(j) {
    if (j.previous !== undefined) {
      // The SDK's rejoin: the handle of the room it replaces follows the
      // new seat. None when the app left meanwhile (that seat is given back).
      const h = this._live.get(j.previous);
      if (!h || h.seat.status !== 'active') return;
      if (j.previous !== j.room) {
        this._live.delete(j.previous);
        this._live.set(j.room, h);
      }
      h.seat.reseat({ ...j, previous: j.previous });
      return;
    }
    const h = this._open(j);
    if (j.request) this._fresh.set(j.request, h.room);
  }

  /**
   * @private
   * @param {JoinResult} j
   * @returns {{ seat: Seat, room: Room }}
   */
  _open(j) {
    const seat = new Seat(j);
    const h = { seat, room: new Room(seat, this._host) };
    this._live.set(j.room, h);
    return h;
  }

  /**
   * @private
   * @param {Seat} seat
   * @param {LeftEvent} left
   */
  _end(seat, left) {
    const room = seat.joined.room;
    if (this._live.get(room)?.seat === seat) this._live.delete(room);
    seat.end(left);
  }
}
