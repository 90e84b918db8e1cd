// playhouse-client: the JavaScript client of Playhouse game servers.
// See README.md for a complete example.

// The public types, for TypeScript (`import type { RoomState } from 'playhouse-client'`).
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
export {
  ConnectError,
  HandshakeRefusedError,
  JoinError,
  JoinErrorCode,
  JOIN_ERROR_NAMES,
  ConnectionClosedError,
  TimeoutError,
  AuthError,
  RedirectError,
  MAX_REDIRECTS,
  ChannelError,
  ChannelErrorCode,
  DeltaError,
  InflateError,
} from './errors.js';
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
export const LeaveReason = Object.freeze({ LEAVE_REASON_UNSPECIFIED: 0, REQUESTED: 1, KICKED: 2, DISPOSED: 3, ROOM_CRASHED: 4, DISCONNECTED: 5 });
