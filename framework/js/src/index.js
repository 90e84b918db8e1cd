// playhouse-client: the JavaScript client of Playhouse game servers.
// See README.md for a complete example.

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
} from './errors.js';
export { authCloseError, refreshDelay, CLOSE_UNAUTHORIZED, CLOSE_AUTH_TIMEOUT, CLOSE_FORBIDDEN, CLOSE_POLICY } from './auth.js';
export { backoffDelay, isFatalClose, reconnectPolicy, FATAL_CLOSE_CODES, DEFAULT_RECONNECT, CLOSE_REPLACED } from './backoff.js';
export { ackPolicy, DEFAULT_ACK } from './session.js';
export { parseToken, parseTokens, explainRefusal, formatVersions, infoUrlFor } from './tokens.js';
export { ENVELOPE_PROTO } from './envelope.proto.js';
export { Schema, createCodec, normalize, encodeProto, decodeProto, encodeMsgpack, decodeMsgpack, ENVELOPE_PACKAGE } from './codec.js';

/** `LeaveReason` numbers (envelope.proto). */
export const LeaveReason = Object.freeze({ LEAVE_REASON_UNSPECIFIED: 0, REQUESTED: 1, KICKED: 2, DISPOSED: 3, ROOM_CRASHED: 4, DISCONNECTED: 5 });
