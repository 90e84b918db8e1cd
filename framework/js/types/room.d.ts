import { Emitter } from './emitter.js';
import { InputLog } from './inputs.js';
export type JoinResult = import('./types.js').JoinResult;
export type LeftEvent = import('./types.js').LeftEvent;
export type StateEvent = import('./types.js').StateEvent;
export type RoomMessage = import('./types.js').RoomMessage;
export type ServerError = import('./types.js').ServerError;
export type RoomState = import('./types.js').RoomState;
export type DroppedInput = import('./types.js').DroppedInput;
export type RejoinedEvent = import('./types.js').RejoinedEvent;
export type RoomEvents = import('./types.js').RoomEvents;
export type ClientEvents = import('./types.js').ClientEvents;
export type SentInput = import('./inputs.js').SentInput;
export type RoomHost = {
    /**
     * false: not sent
     */
    sendInput: (room: string, seq: number, input: object) => boolean;
    leave: (room: string) => Promise<LeftEvent>;
};
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
declare class Seat extends Emitter<RoomEvents> {
    /** @type {JoinResult} the join this seat came from (room id, client id, …) */
    joined: JoinResult;
    /** The inputs sent on this seat. */
    inputs: InputLog;
    /** @type {'active' | 'leaving' | 'ended'} */
    status: 'active' | 'leaving' | 'ended';
    /** @param {JoinResult} joined */
    constructor(joined: JoinResult);
    /** @param {StateEvent} s */
    state(s: StateEvent): void;
    /** @param {RoomMessage} m */
    message(m: RoomMessage): void;
    /** @param {ServerError & { inputSeq: number }} e  an error that names one of this seat's inputs */
    dropped(e: ServerError & {
        inputSeq: number;
    }): void;
    /**
     * A new seat for this handle (after a new session).
     * @param {JoinResult & { previous: string }} j
     */
    reseat(j: JoinResult & {
        previous: string;
    }): void;
    /**
     * The seat is gone: `leave` is emitted once.
     * @param {LeftEvent} left
     */
    end(left: LeftEvent): void;
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
export declare class Room {
    /**
     * The room id the join answered (the current one is {@link Room#id}).
     * @readonly
     */
    room: string;
    /**
     * The room type, e.g. `arena`.
     * @readonly
     */
    roomType: string;
    /**
     * Ticks per second of the room.
     * @readonly
     */
    tickHz: number;
    /**
     * The client id the join answered (the current one is {@link Room#clientId}).
     * @readonly
     */
    client: number;
    /**
     * The request id of the join.
     * @readonly
     */
    request: number;
    /**
     * Made by the client; not constructed by the app.
     * @param {Seat} seat
     * @param {RoomHost} host
     */
    constructor(seat: Seat, host: RoomHost);
    /** The id of the room the seat is in now (another one after a rejoin into a new room). */
    get id(): string;
    /** This client's id in the room now (its entry in `State.acks`); new after a rejoin. */
    get clientId(): number;
    /** Whether the seat is still there: false once `leave()` was called or the handle ended. */
    get active(): boolean;
    /** The seq of the last input sent (0: none yet on this seat). */
    get sentSeq(): number;
    /**
     * The seat's acknowledged input seq: the newest the server has processed
     * (0: none yet). It never moves back; a late or stale state leaves it.
     */
    get ackedSeq(): number;
    /**
     * The inputs sent and neither acknowledged nor dropped, oldest first (a
     * copy): what a prediction replays on top of the latest state.
     * @returns {SentInput[]}
     */
    get unacked(): SentInput[];
    /**
     * Sends a game input, numbered by the handle. Returns its seq, or null
     * when nothing was sent (not connected, e.g. during a reconnect, or the
     * room was left): inputs are intent, send the next one. A seq is used
     * only by an input that went out.
     * @param {object} input  the game's Input of the negotiated version, camelCase fields
     * @returns {number | null}
     * @throws {TypeError} when the input does not encode
     */
    send(input: object): number | null;
    /**
     * Leaves the room ({@link Client#leave}): its frames stop at once, and
     * the promise resolves with the server's `Left`. `onLeave` follows.
     * @returns {Promise<LeftEvent>}
     */
    leave(): Promise<LeftEvent>;
    /**
     * Calls `fn` with every state of the room, after the seat's ack was taken
     * from it ({@link RoomState}).
     * @param {(state: RoomState) => void} fn
     * @returns {() => void} removes the listener
     */
    onState(fn: (state: RoomState) => void): () => void;
    /**
     * Calls `fn` with every reliable message of the room.
     * @param {(message: RoomMessage) => void} fn
     * @returns {() => void} removes the listener
     */
    onMessage(fn: (message: RoomMessage) => void): () => void;
    /**
     * Calls `fn` once when the seat is gone for good: the server's `Left`
     * (after `leave()`, a kick, the room disposed or crashed), a resume that
     * no longer lists the room, a rejoin that failed or was not tried
     * (`reconnect.rejoin: false`), or the client closed. Local causes have
     * `reason` 0 and say what happened in `detail`.
     * @param {(left: LeftEvent) => void} fn
     * @returns {() => void} removes the listener
     */
    onLeave(fn: (left: LeftEvent) => void): () => void;
    /**
     * Calls `fn` for each input the server named as never processed (1013
     * room busy, 4003 refused, 4004 not in the room). The input has left
     * {@link Room#unacked} by then; a later ack does not mean it was applied.
     * @param {(dropped: DroppedInput) => void} fn
     * @returns {() => void} removes the listener
     */
    onInputDropped(fn: (dropped: DroppedInput) => void): () => void;
    /**
     * Calls `fn` when the SDK joined again after a new session: a new seat,
     * perhaps in another room ({@link RejoinedEvent}); the input seq starts
     * over. Not called after a resume (the seat is the same).
     * @param {(rejoined: RejoinedEvent) => void} fn
     * @returns {() => void} removes the listener
     */
    onRejoined(fn: (rejoined: RejoinedEvent) => void): () => void;
    /** @returns {JoinResult} the join that made this handle, as a plain object */
    toJSON(): JoinResult;
}
/**
 * The handles of one client, by room id. The client routes every event it
 * emits through {@link RoomHandles#route}, before its own listeners.
 */
export declare class RoomHandles {
    /** @private */
    private _host;
    /** @private @type {Map<string, { seat: Seat, room: Room }>} by room id: the seats not ended */
    private _live;
    /** @private @type {Map<number, Room>} handles made for a join, until its promise takes them */
    private _fresh;
    /** @param {RoomHost} host */
    constructor(host: RoomHost);
    /**
     * The handle of `room`, while its seat lasts.
     * @param {string} room
     * @returns {Room | null}
     */
    get(room: string): Room | null;
    /**
     * The handle a join resolves with: made when its `Joined` was routed,
     * before any frame after it.
     * @param {JoinResult} j
     * @returns {Room}
     */
    take(j: JoinResult): Room;
    /**
     * `leave(room)` was called: the handle stops at once and ends when the
     * leave settles (with the server's `Left`, or what the client resolved
     * instead).
     * @param {string} room
     * @param {Promise<LeftEvent>} leaving
     */
    leaving(room: string, leaving: Promise<LeftEvent>): void;
    /**
     * One client event, before the app's listeners see it.
     * @template {keyof ClientEvents} K
     * @param {K} event
     * @param {ClientEvents[K]} payload
     */
    route<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void;
    /**
     * @private
     * @param {string} room
     * @returns {Seat | null} the seat of `room`, when it takes frames
     */
    private _active;
    /**
     * @private
     * @param {JoinResult} j
     */
    private _joined;
    /**
     * @private
     * @param {JoinResult} j
     * @returns {{ seat: Seat, room: Room }}
     */
    private _open;
    /**
     * @private
     * @param {Seat} seat
     * @param {LeftEvent} left
     */
    private _end;
}
export {};
