export type RoomRecord = import('./types.js').RoomRecord;
export type RoomInfo = import('./types.js').RoomInfo;
/** @typedef {import('./types.js').RoomRecord} RoomRecord */
/** @typedef {import('./types.js').RoomInfo} RoomInfo */
export declare class RoomTable {
    /** @private @type {Map<string, RoomRecord>} */
    private _records;
    /** @private @type {Set<string>} */
    private _leaving;
    constructor();
    /** @param {string} room @returns {RoomRecord | undefined} */
    get(room: string): RoomRecord | undefined;
    /** @param {string} room @returns {boolean} */
    has(room: string): boolean;
    /** @param {RoomRecord} rec  replaces any record of the same room */
    set(rec: RoomRecord): void;
    /** @param {string} room @returns {boolean} whether there was a record */
    delete(room: string): boolean;
    /** @returns {RoomRecord[]} the records (a copy of the list; the records themselves) */
    records(): RoomRecord[];
    /** @returns {RoomInfo[]} what the app may see of each room */
    list(): RoomInfo[];
    /** Every seat was in a session that is gone: each room is to be joined again. */
    markAllRejoin(): void;
    /**
     * `leave(room)` was called: the room is forgotten at once (its frames are
     * no longer emitted) and remembered as leaving until its `Left`.
     * @param {string} room
     * @returns {RoomRecord | null} its record, or null when not in that room
     */
    startLeaving(room: string): RoomRecord | null;
    /** @param {string} room @returns {boolean} */
    isLeaving(room: string): boolean;
    /** @param {string} room  its `Left` arrived, or it was joined again */
    doneLeaving(room: string): void;
    /** @returns {string[]} the rooms being left */
    leavingRooms(): string[];
    /** Forgets the rooms being left (a new session has none of them). */
    clearLeaving(): void;
    /** Forgets every room (the client closed, or rejoining is off). */
    clear(): void;
}
