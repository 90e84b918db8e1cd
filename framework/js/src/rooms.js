// The rooms the session is in, as the client keeps them: one record per
// room (its seat, and the options to rejoin it with), plus the rooms
// `leave` was called for whose `Left` has not arrived (a resume that still
// lists one leaves it again).

/** @typedef {import('./types.js').RoomRecord} RoomRecord */
/** @typedef {import('./types.js').RoomInfo} RoomInfo */

export class RoomTable {
  constructor() {
    /** @private @type {Map<string, RoomRecord>} */
    this._records = new Map();
    /** @private @type {Set<string>} */
    this._leaving = new Set();
  }

  /** @param {string} room @returns {RoomRecord | undefined} */
  get(room) {
    return this._records.get(room);
  }

  /** @param {string} room @returns {boolean} */
  has(room) {
    return this._records.has(room);
  }

  /** @param {RoomRecord} rec  replaces any record of the same room */
  set(rec) {
    this._records.set(rec.room, rec);
  }

  /** @param {string} room @returns {boolean} whether there was a record */
  delete(room) {
    return this._records.delete(room);
  }

  /** @returns {RoomRecord[]} the records (a copy of the list; the records themselves) */
  records() {
    return [...this._records.values()];
  }

  /** @returns {RoomInfo[]} what the app may see of each room */
  list() {
    return this.records().map(({ room, roomType, tickHz, client }) => ({ room, roomType, tickHz, client }));
  }

  /** Every seat was in a session that is gone: each room is to be joined again. */
  markAllRejoin() {
    for (const rec of this._records.values()) rec.rejoin = true;
  }

  /**
   * `leave(room)` was called: the room is forgotten at once (its frames are
   * no longer emitted) and remembered as leaving until its `Left`.
   * @param {string} room
   * @returns {RoomRecord | null} its record, or null when not in that room
   */
  startLeaving(room) {
    const rec = this._records.get(room);
    if (!rec) return null;
    rec.left = true;
    this._records.delete(room);
    this._leaving.add(room);
    return rec;
  }

  /** @param {string} room @returns {boolean} */
  isLeaving(room) {
    return this._leaving.has(room);
  }

  /** @param {string} room  its `Left` arrived, or it was joined again */
  doneLeaving(room) {
    this._leaving.delete(room);
  }

  /** @returns {string[]} the rooms being left */
  leavingRooms() {
    return [...this._leaving];
  }

  /** Forgets the rooms being left (a new session has none of them). */
  clearLeaving() {
    this._leaving.clear();
  }

  /** Forgets every room (the client closed, or rejoining is off). */
  clear() {
    this._records.clear();
    this._leaving.clear();
  }
}
