import protobuf from 'protobufjs';
/** The envelope's protobuf package (proto/schemas/playhouse/envelope.proto). */
export declare const ENVELOPE_PACKAGE = "playhouse.envelope";
export type CodecName = import('./tokens.js').CodecName;
export type GameTypes = {
    /**
     * e.g. `arena`
     */
    package: string;
    input?: string;
    /**
     * what `state` and `message` default to
     */
    output?: string;
    /**
     * the type of state payloads (default: `output`)
     */
    state?: string;
    /**
     * the type of reliable message payloads (default: `output`)
     */
    message?: string;
};
/**
 * The envelope this package ships and the game's .proto sources, parsed
 * into one protobufjs root.
 */
export declare class Schema {
    root: protobuf.Root;
    /**
     * Parses `.proto` sources (strings) with `protobuf.parse` into one root,
     * after the envelope this package ships ({@link ENVELOPE_PROTO}). A source
     * of package `playhouse.envelope` takes the place of the shipped one (a
     * server's newer envelope, or a game that still passes it: two would
     * clash). Field names become camelCase, as in the MessagePack form.
     *
     * @param {string[]} sources  the texts of the game's .proto files
     * @throws {TypeError} when a source does not parse or a type does not resolve
     */
    constructor(sources: string[]);
    /**
     * A message type by its full name, or null.
     * @param {string} name  e.g. `arena.v2.Input`
     * @returns {protobuf.Type | null}
     */
    type(name: string): protobuf.Type | null;
}
/**
 * Normalises a decoded message into the one shape both codecs give: the
 * MessagePack (serde) shape — plain objects, camelCase fields, every field
 * present with its default, 64-bit integers as numbers, enums as numbers,
 * oneofs as `{ kind: { case: value } }` or `{ kind: null }`, singular
 * message fields as object or null, bytes as `Uint8Array`. Unknown fields
 * and unknown oneof cases are dropped (a oneof with an unknown case is null).
 *
 * @param {protobuf.Type} type
 * @param {unknown} obj  a protobufjs message (`from: 'proto'`) or a decoded MessagePack value (`from: 'msgpack'`)
 * @param {'proto' | 'msgpack'} from
 * @returns {Record<string, any>}
 */
export declare function normalize(type: protobuf.Type, obj: unknown, from: 'proto' | 'msgpack'): Record<string, any>;
/**
 * The inverse of the oneof mapping: turns the normalised shape
 * (`{ kind: { joinOrCreate: {...} } }`) into what protobufjs `fromObject`
 * takes (`{ joinOrCreate: {...} }`), recursively. Objects already in
 * protobufjs shape pass through.
 *
 * @param {protobuf.Type} type
 * @param {unknown} src
 * @returns {Record<string, unknown>}
 */
export declare function toProtoShape(type: protobuf.Type, src: unknown): Record<string, unknown>;
/**
 * Encodes a message given in the normalised shape with protobuf.
 * @param {protobuf.Type} type
 * @param {unknown} obj
 * @returns {Uint8Array}
 */
export declare function encodeProto(type: protobuf.Type, obj: unknown): Uint8Array;
/**
 * Decodes protobuf bytes into the normalised shape.
 * @param {protobuf.Type} type
 * @param {Uint8Array} bytes
 * @returns {Record<string, any>}
 */
export declare function decodeProto(type: protobuf.Type, bytes: Uint8Array): Record<string, any>;
/**
 * Encodes a value with MessagePack. With a schema type the value is first
 * checked and completed the way the server's serde form is (every field
 * present, integers truncated, unknown keys dropped); without one it is
 * encoded as given. `Uint8Array` values become `bin`.
 *
 * @param {protobuf.Type | null} type
 * @param {unknown} obj
 * @returns {Uint8Array}
 */
export declare function encodeMsgpack(type: protobuf.Type | null, obj: unknown): Uint8Array;
/**
 * Decodes MessagePack bytes; with a schema type, normalised (see
 * {@link normalize}), otherwise as decoded (the server already writes every
 * field).
 *
 * @param {protobuf.Type | null} type
 * @param {Uint8Array} bytes
 * @returns {any}
 */
export declare function decodeMsgpack(type: protobuf.Type | null, bytes: Uint8Array): any;
export type WireCodec = {
    codec: CodecName;
    version: number;
    /**
     * a ClientMsg (normalised shape)
     */
    encodeClient: (msg: object) => Uint8Array;
    /**
     * a ServerMsg (normalised shape)
     */
    decodeServer: (bytes: Uint8Array) => any;
    /**
     * a game Input
     */
    encodeInput: (input: object) => Uint8Array;
    /**
     * the payload of a `State` frame (`game.state`)
     */
    decodeState: (bytes: Uint8Array) => any;
    /**
     * the payload of a reliable `Message` frame (`game.message`)
     */
    decodeMessage: (bytes: Uint8Array) => any;
};
/**
 * The encoder/decoder of one negotiated token: the envelope and the game
 * payloads inside it, both with the token's codec and version.
 * @typedef {object} WireCodec
 * @property {CodecName} codec
 * @property {number} version
 * @property {(msg: object) => Uint8Array} encodeClient  a ClientMsg (normalised shape)
 * @property {(bytes: Uint8Array) => any} decodeServer   a ServerMsg (normalised shape)
 * @property {(input: object) => Uint8Array} encodeInput  a game Input
 * @property {(bytes: Uint8Array) => any} decodeState     the payload of a `State` frame (`game.state`)
 * @property {(bytes: Uint8Array) => any} decodeMessage   the payload of a reliable `Message` frame (`game.message`)
 */
/**
 * The full type names the game types of a version map to.
 * @param {GameTypes} game
 * @param {number} version
 * @returns {{ input: string, state: string, message: string }}
 */
export declare function gameTypeNames(game: GameTypes, version: number): {
    input: string;
    state: string;
    message: string;
};
/**
 * What a token needs from the schema, as an error message; null if it has
 * it all. A proto token needs the envelope and the game types of its
 * version (input, state and message); a msgpack token needs nothing (the
 * schema is used when present).
 *
 * @param {Schema | null} schema
 * @param {import('./tokens.js').Token} token
 * @param {GameTypes} game
 * @returns {string | null}
 */
export declare function missingTypes(schema: Schema | null, token: import('./tokens.js').Token, game: GameTypes): string | null;
/**
 * Builds the codec of a negotiated token.
 *
 * @param {import('./tokens.js').Token} token
 * @param {Schema | null} schema
 * @param {GameTypes} game
 * @returns {WireCodec}
 * @throws {TypeError} a proto token without its types
 */
export declare function createCodec(token: import('./tokens.js').Token, schema: Schema | null, game: GameTypes): WireCodec;
