// Requests that wait for an answer: joins, leaves and pings. Each is a
// pending entry with its own timeout, settled when frames.js routes the
// answer here, or failed with the connection. (auth.js keeps its `Auth`
// requests itself, with the same `pending`.)

import { ConnectionClosedError, TimeoutError } from './errors.js';
import { joinOptions } from './options.js';

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
export function nowMs() {
  return globalThis.performance ? globalThis.performance.now() : Date.now();
}

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
export function pending(timeoutMs, resolve, reject, what, remove) {
  /** @type {Pending} */
  const entry = {
    resolve: (v) => {
      clearTimeout(entry.timer);
      remove();
      resolve(v);
    },
    reject: (e) => {
      clearTimeout(entry.timer);
      remove();
      reject(e);
    },
    timer: setTimeout(() => entry.reject(new TimeoutError(`playhouse-client: ${what}: no answer within ${timeoutMs} ms`)), timeoutMs),
  };
  return entry;
}

/**
 * What the requests need from the link.
 * @typedef {object} RequestIo
 * @property {number} timeoutMs
 * @property {(msg: object) => boolean} send  sends a ClientMsg; false when not connected
 * @property {() => boolean} isOpen  whether requests may go out now
 */

export class Requests {
  /** @param {RequestIo} io */
  constructor(io) {
    /** @private */
    this._io = io;
    /** The last round-trip time measured by a ping, in ms, or null. @type {number | null} */
    this.rttMs = null;
    /** @private @type {Map<number, PendingJoin>} */
    this._joins = new Map();
    /** @private @type {Map<number, Pending & { started: number }>} */
    this._pings = new Map();
    /** @private @type {Map<string, Pending[]>} */
    this._leaves = new Map();
    /** @private */
    this._nextRequest = 1;
    /** @private */
    this._lastClientTime = 0;
  }

  /**
   * Sends the message of a pending request; an encoding error rejects it.
   * @private
   * @param {Pending} entry
   * @param {object} msg
   */
  _sendOrReject(entry, msg) {
    try {
      this._io.send(msg);
    } catch (e) {
      entry.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  /**
   * Sends a `Join`, `JoinOrCreate` or `Create`; resolves with its `Joined`,
   * rejects with its `JoinError`.
   * @param {'join' | 'joinOrCreate' | 'create'} kind
   * @param {{ room?: string, roomType?: string }} fields
   * @param {unknown} rawOptions  checked by joinOptions (a bad value rejects)
   * @param {string} [previous]  the SDK's rejoin of this room after a new session
   * @returns {Promise<JoinResult>}
   */
  join(kind, fields, rawOptions, previous) {
    /** @type {Record<string, string>} */
    let options;
    try {
      options = joinOptions(rawOptions);
    } catch (e) {
      return Promise.reject(e);
    }
    if (!this._io.isOpen()) return Promise.reject(new ConnectionClosedError(1006, 'not connected', kind));
    const request = this._nextRequest;
    this._nextRequest = (this._nextRequest % 0xffffffff) + 1;
    return new Promise((resolve, reject) => {
      /** @type {PendingJoin} */
      /** @type {PendingJoin} */
      const entry = Object.assign(
        pending(this._io.timeoutMs, resolve, reject, kind, () => this._joins.delete(entry.request)),
        { options, previous, request, kind, hops: 0 },
      );
      this._joins.set(request, entry);
      this._sendOrReject(entry, { kind: { [kind]: { request, ...fields, options } } });
    });
  }

  /**
   * The join waiting for the answer to `request`, if any.
   * @param {number} request
   * @returns {PendingJoin | undefined}
   */
  joinFor(request) {
    return this._joins.get(request);
  }

  /** How many joins are waiting for their answer. */
  get joinsInFlight() {
    return this._joins.size;
  }

  /**
   * Whether `entry` is still waiting (not settled, not timed out).
   * @param {PendingJoin} entry
   * @returns {boolean}
   */
  isPending(entry) {
    return this._joins.get(entry.request) === entry;
  }

  /**
   * Gives a join that follows a redirect a fresh `timeoutMs` (the move
   * dials another node first, then joins there).
   * @param {PendingJoin} entry
   */
  extend(entry) {
    clearTimeout(entry.timer);
    const what = `${entry.kind} (redirected)`;
    entry.timer = setTimeout(
      () => entry.reject(new TimeoutError(`playhouse-client: ${what}: no answer within ${this._io.timeoutMs} ms`)),
      this._io.timeoutMs,
    );
  }

  /**
   * Follows a redirect on the new connection: sends `Join{room,
   * reservation}` with the join's options under a new request id, and the
   * join waits for that answer (its promise is the one the app holds).
   * @param {PendingJoin} entry
   * @param {string} room
   * @param {string} reservation
   */
  sendRedirected(entry, room, reservation) {
    this._joins.delete(entry.request);
    const request = this._nextRequest;
    this._nextRequest = (this._nextRequest % 0xffffffff) + 1;
    entry.request = request;
    entry.hops += 1;
    this._joins.set(request, entry);
    this.extend(entry);
    this._sendOrReject(entry, { kind: { join: { request, room, reservation, options: entry.options } } });
  }

  /**
   * Sends a `Leave` and resolves with the server's `Left` (see
   * {@link Requests#settleLeaves}).
   * @param {string} room
   * @returns {Promise<LeftEvent>}
   */
  leave(room) {
    return new Promise((resolve, reject) => {
      const entry = pending(this._io.timeoutMs, resolve, reject, `leave ${room}`, () => {
        const list = this._leaves.get(room) ?? [];
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
      });
      const list = this._leaves.get(room) ?? [];
      list.push(entry);
      this._leaves.set(room, list);
      this._sendOrReject(entry, { kind: { leave: { room } } });
    });
  }

  /**
   * Resolves every leave of `room` waiting for its `Left`.
   * @param {string} room
   * @param {LeftEvent} left
   */
  settleLeaves(room, left) {
    for (const p of [...(this._leaves.get(room) ?? [])]) p.resolve(left);
    this._leaves.delete(room);
  }

  /**
   * Sends an envelope `Ping` and resolves with the round-trip time when its
   * `Pong` arrives ({@link Requests#pong}).
   * @returns {Promise<number>}
   */
  ping() {
    if (!this._io.isOpen()) return Promise.reject(new ConnectionClosedError(1006, 'not connected', 'ping'));
    // Epoch microseconds, like the Rust client; strictly increasing so each ping is matched exactly.
    let clientTime = Date.now() * 1000;
    if (clientTime <= this._lastClientTime) clientTime = this._lastClientTime + 1;
    this._lastClientTime = clientTime;
    return new Promise((resolve, reject) => {
      const entry = Object.assign(
        pending(this._io.timeoutMs, resolve, reject, 'ping', () => this._pings.delete(clientTime)),
        { started: nowMs() },
      );
      this._pings.set(clientTime, entry);
      this._sendOrReject(entry, { kind: { ping: { clientTime } } });
    });
  }

  /**
   * A `Pong` arrived: settles its ping and records the round-trip time.
   * @param {number} clientTime
   */
  pong(clientTime) {
    const p = this._pings.get(clientTime);
    if (!p) return;
    const rtt = nowMs() - p.started;
    this.rttMs = rtt;
    p.resolve(rtt);
  }

  /**
   * Rejects every pending join, ping and leave.
   * @param {Error} e
   */
  failAll(e) {
    for (const p of [...this._joins.values()]) p.reject(e);
    this.failPings(e);
    for (const list of [...this._leaves.values()]) for (const p of [...list]) p.reject(e);
    this._leaves.clear();
  }

  /**
   * Rejects the pending pings (pongs are not replayed by a resume).
   * @param {Error} e
   */
  failPings(e) {
    for (const p of [...this._pings.values()]) p.reject(e);
  }
}
