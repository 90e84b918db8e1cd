export type ConnectOptions = import('./types.js').ConnectOptions;
export type AuthOptions = import('./auth.js').AuthOptions;
export type ReconnectOptions = import('./backoff.js').ReconnectOptions;
export type AckOptions = import('./session.js').AckOptions;
export type GameTypes = import('./codec.js').GameTypes;
export type Token = import('./tokens.js').Token;
export type WebSocketLike = import('./types.js').WebSocketLike;
export type WebSocketConstructor = import('./types.js').WebSocketConstructor;
export type ClientEvents = import('./types.js').ClientEvents;
export type JoinResult = import('./types.js').JoinResult;
export type StateEvent = import('./types.js').StateEvent;
export type RoomMessage = import('./types.js').RoomMessage;
export type LeftEvent = import('./types.js').LeftEvent;
export type ServerError = import('./types.js').ServerError;
export type CloseInfo = import('./types.js').CloseInfo;
export type ReconnectingEvent = import('./types.js').ReconnectingEvent;
export type ShutdownEvent = import('./types.js').ShutdownEvent;
export type ReconnectedEvent = import('./types.js').ReconnectedEvent;
export type ResumedEvent = import('./types.js').ResumedEvent;
export type NewSessionEvent = import('./types.js').NewSessionEvent;
export type RoomInfo = import('./types.js').RoomInfo;
export type AuthInfo = import('./types.js').AuthInfo;
export type RoomEvents = import('./types.js').RoomEvents;
export type RoomState = import('./types.js').RoomState;
export type DroppedInput = import('./types.js').DroppedInput;
export type RejoinedEvent = import('./types.js').RejoinedEvent;
export type RedirectedEvent = import('./types.js').RedirectedEvent;
export type RedirectErrorKind = import('./errors.js').RedirectErrorKind;
export type SentInput = import('./inputs.js').SentInput;
export type Publication = import('./types.js').Publication;
export type Subscribed = import('./types.js').Subscribed;
export type ChannelPosition = import('./types.js').ChannelPosition;
export type PresenceEvent = import('./types.js').PresenceEvent;
export type ResubscribedEvent = import('./types.js').ResubscribedEvent;
export type SubscribeOptions = import('./channels.js').SubscribeOptions;
export type StateStats = import('./baselines.js').StateStats;
export type DeltaErrorKind = import('./errors.js').DeltaErrorKind;
export type InflateErrorKind = import('./errors.js').InflateErrorKind;
/** @typedef {import('./types.js').ConnectOptions} ConnectOptions */
/** @typedef {import('./auth.js').AuthOptions} AuthOptions */
/** @typedef {import('./backoff.js').ReconnectOptions} ReconnectOptions */
/** @typedef {import('./session.js').AckOptions} AckOptions */
/** @typedef {import('./codec.js').GameTypes} GameTypes */
/** @typedef {import('./tokens.js').Token} Token */
/** @typedef {import('./types.js').WebSocketLike} WebSocketLike */
/** @typedef {import('./types.js').WebSocketConstructor} WebSocketConstructor */
/** @typedef {import('./types.js').ClientEvents} ClientEvents */
/** @typedef {import('./types.js').JoinResult} JoinResult */
/** @typedef {import('./types.js').StateEvent} StateEvent */
/** @typedef {import('./types.js').RoomMessage} RoomMessage */
/** @typedef {import('./types.js').LeftEvent} LeftEvent */
/** @typedef {import('./types.js').ServerError} ServerError */
/** @typedef {import('./types.js').CloseInfo} CloseInfo */
/** @typedef {import('./types.js').ReconnectingEvent} ReconnectingEvent */
/** @typedef {import('./types.js').ShutdownEvent} ShutdownEvent */
/** @typedef {import('./types.js').ReconnectedEvent} ReconnectedEvent */
/** @typedef {import('./types.js').ResumedEvent} ResumedEvent */
/** @typedef {import('./types.js').NewSessionEvent} NewSessionEvent */
/** @typedef {import('./types.js').RoomInfo} RoomInfo */
/** @typedef {import('./types.js').AuthInfo} AuthInfo */
/** @typedef {import('./types.js').RoomEvents} RoomEvents */
/** @typedef {import('./types.js').RoomState} RoomState */
/** @typedef {import('./types.js').DroppedInput} DroppedInput */
/** @typedef {import('./types.js').RejoinedEvent} RejoinedEvent */
/** @typedef {import('./types.js').RedirectedEvent} RedirectedEvent */
/** @typedef {import('./errors.js').RedirectErrorKind} RedirectErrorKind */
/** @typedef {import('./inputs.js').SentInput} SentInput */
/** @typedef {import('./types.js').Publication} Publication */
/** @typedef {import('./types.js').Subscribed} Subscribed */
/** @typedef {import('./types.js').ChannelPosition} ChannelPosition */
/** @typedef {import('./types.js').PresenceEvent} PresenceEvent */
/** @typedef {import('./types.js').ResubscribedEvent} ResubscribedEvent */
/** @typedef {import('./channels.js').SubscribeOptions} SubscribeOptions */
/** @typedef {import('./baselines.js').StateStats} StateStats */
/** @typedef {import('./errors.js').DeltaErrorKind} DeltaErrorKind */
/** @typedef {import('./errors.js').InflateErrorKind} InflateErrorKind */
export { Client } from './client.js';
export { Room } from './room.js';
export { isNewerSeq, MAX_UNACKED } from './inputs.js';
export { ConnectError, HandshakeRefusedError, JoinError, JoinErrorCode, JOIN_ERROR_NAMES, ConnectionClosedError, TimeoutError, AuthError, RedirectError, MAX_REDIRECTS, ChannelError, ChannelErrorCode, DeltaError, InflateError, } from './errors.js';
export { VERSION, HELLO_CLIENT } from './version.js';
export { authCloseError, refreshDelay, CLOSE_UNAUTHORIZED, CLOSE_AUTH_TIMEOUT, CLOSE_FORBIDDEN, CLOSE_POLICY } from './auth.js';
export { backoffDelay, isFatalClose, reconnectPolicy, FATAL_CLOSE_CODES, DEFAULT_RECONNECT, CLOSE_REPLACED } from './backoff.js';
export { ackPolicy, DEFAULT_ACK } from './session.js';
export { parseToken, parseTokens, explainRefusal, formatVersions, infoUrlFor } from './tokens.js';
export { ENVELOPE_PROTO } from './envelope.proto.js';
export { applyDelta } from './delta.js';
export { inflateState, withCompression, MAX_INFLATED_BYTES } from './compress.js';
export { Schema, createCodec, normalize, encodeProto, decodeProto, encodeMsgpack, decodeMsgpack, ENVELOPE_PACKAGE } from './codec.js';
/** `LeaveReason` numbers (envelope.proto). */
export declare const LeaveReason: Readonly<{
    LEAVE_REASON_UNSPECIFIED: 0;
    REQUESTED: 1;
    KICKED: 2;
    DISPOSED: 3;
    ROOM_CRASHED: 4;
    DISCONNECTED: 5;
}>;
