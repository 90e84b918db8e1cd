// The typedefs of the client: options, results, events and internal records.
// Types only (no runtime code); import them with `import('./types.js').X`.

/** @typedef {import('./tokens.js').Token} Token */
/** @typedef {import('./codec.js').WireCodec} WireCodec */
/** @typedef {import('./codec.js').GameTypes} GameTypes */
/** @typedef {import('./backoff.js').ReconnectOptions} ReconnectOptions */
/** @typedef {import('./errors.js').JoinError} JoinError */
/** @typedef {import('./client.js').Client} Client */

/**
 * The part of the WebSocket API the client uses; both the browser's
 * `WebSocket` and the `ws` package's have it.
 * @typedef {object} WebSocketLike
 * @property {string} protocol
 * @property {number} readyState
 * @property {string} binaryType
 * @property {((ev: any) => void) | null} onopen
 * @property {((ev: any) => void) | null} onmessage
 * @property {((ev: any) => void) | null} onerror
 * @property {((ev: any) => void) | null} onclose
 * @property {(data: Uint8Array) => void} send
 * @property {(code?: number, reason?: string) => void} close
 */

/**
 * A WebSocket class: `globalThis.WebSocket` in browsers, `ws`'s `WebSocket` in Node.
 * @typedef {new (url: string, protocols?: string | string[]) => WebSocketLike} WebSocketConstructor
 */

/**
 * Options of {@link Client.connect}.
 * @typedef {object} ConnectOptions
 * @property {string[]} tokens  subprotocol tokens `<app>.v<N>.<codec>`, best first
 *   (the server applies its own rule: highest shared version, then its codec preference)
 * @property {string[]} [protos]  `.proto` sources as strings: the envelope and the
 *   game's schemas. Required for `proto` tokens; with `msgpack` tokens they are
 *   used (when present) to normalise and check messages
 * @property {GameTypes} [game]  game type names; default
 *   `{ package: <app of the first token>, input: 'Input', output: 'Output' }`
 * @property {ReconnectOptions | boolean} [reconnect]  reconnect on abnormal closes;
 *   omitted or `false`: never. `true`: the defaults (250 ms base, 5 s cap, 8 tries)
 * @property {WebSocketConstructor} [WebSocket]  default `globalThis.WebSocket`
 *   (in Node 20 pass `WebSocket` from the `ws` package)
 * @property {number} [timeoutMs=10000]  limit for the handshake, joins, leaves and pings
 * @property {(url: string, init?: any) => Promise<any>} [fetch]  for `GET /info`
 *   after a refused handshake; default `globalThis.fetch`
 */

/**
 * A successful join (the `Joined` envelope).
 * @typedef {object} JoinResult
 * @property {string} room      the room id
 * @property {string} roomType
 * @property {number} tickHz    ticks per second
 * @property {number} client    this connection's id in the room (find it in `State.acks`)
 * @property {number} request   the request id the join used
 */

/**
 * A state snapshot (`state` event). Latest wins: a slow client skips ticks.
 * @typedef {object} StateEvent
 * @property {string} room
 * @property {number} tick
 * @property {Array<{ client: number, seq: number }>} acks  highest input seq processed,
 *   per client of this connection's (version, codec) group
 * @property {any} payload  the decoded game Output, e.g. `{ kind: { state: {...} } }`
 */

/**
 * A reliable room message (`message` event).
 * @typedef {object} RoomMessage
 * @property {string} room
 * @property {number} seq   per-room counter; gaps are normal
 * @property {any} payload  the decoded game Output, e.g. `{ kind: { event: {...} } }`
 */

/**
 * `left` event: this connection is no longer in `room`.
 * @typedef {object} LeftEvent
 * @property {string} room
 * @property {number} reason  LeaveReason: 1 REQUESTED, 3 DISPOSED
 * @property {string} detail
 */

/**
 * `error` event: a non-fatal error. Codes from the server (docs/protocol.md
 * §4.2): 4004 not in room, 1013 room busy (input dropped), 4002 resume
 * unavailable, 1003 unknown kind. Code 1007 is local: a server message
 * did not decode (it was skipped).
 * @typedef {object} ServerError
 * @property {number} code
 * @property {string} reason
 */

/**
 * `close` event: the client is closed for good (no more reconnects).
 * @typedef {object} CloseInfo
 * @property {number} code    the WebSocket close code (1006: dropped without a close frame)
 * @property {string} reason
 */

/**
 * `reconnecting` event: a reconnect attempt is scheduled.
 * @typedef {object} ReconnectingEvent
 * @property {number} attempt  1 for the first attempt after a drop
 * @property {number} delayMs  the wait before this attempt
 * @property {number} code     the close code that started the reconnect
 * @property {string} reason
 */

/**
 * `reconnected` event: connected again and rooms rejoined.
 * @typedef {object} ReconnectedEvent
 * @property {Array<JoinResult & { previous: string }>} rooms  the rooms rejoined;
 *   `previous` is the room id before the drop (`room` differs when the old room
 *   was gone and a room of the same type was joined or created)
 * @property {Array<{ room: string, roomType: string, error: JoinError }>} failed
 *   rooms that could not be rejoined
 * @property {string} protocol  the token negotiated this time
 */

/**
 * Events of {@link Client} and their payloads.
 * @typedef {object} ClientEvents
 * @property {StateEvent} state
 * @property {RoomMessage} message
 * @property {JoinResult} joined
 * @property {LeftEvent} left
 * @property {ServerError} error
 * @property {{ clientTime: number, serverTime: number }} pong
 * @property {CloseInfo} close
 * @property {ReconnectingEvent} reconnecting
 * @property {ReconnectedEvent} reconnected
 * @property {{ reconnectAfterMs: number }} shutdown  the server is draining; the first reconnect after its close (1001) waits this long plus jitter
 */

/**
 * @typedef {object} Conn  one open socket after its Welcome
 * @property {WebSocketLike} ws
 * @property {Token} token
 * @property {WireCodec} codec
 * @property {any} welcome
 * @property {{ code: number, reason: string } | null} closedWith
 */

/**
 * @typedef {object} RoomRecord
 * @property {string} room
 * @property {string} roomType
 * @property {number} tickHz
 * @property {number} client
 * @property {Record<string, string>} options  the options it was joined with (for rejoins)
 * @property {boolean} left
 */

/**
 * @typedef {object} Pending
 * @property {(v: any) => void} resolve
 * @property {(e: Error) => void} reject
 * @property {ReturnType<typeof setTimeout>} timer
 */

export {};
