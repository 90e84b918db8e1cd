// The two codecs of docs/protocol.md §3, and the normalisation that makes
// them give the same JavaScript objects.
//
// Protobuf: protobufjs reflection over the project's own .proto sources
// (parsed at run time with protobuf.parse; nothing is hand-written).
// MessagePack: @msgpack/msgpack; the shape is the serde form the Rust server
// writes (camelCase keys, every field present, oneof as {kind: {case: value}}).

import protobuf from 'protobufjs';
import { encode as msgpackEncode, decode as msgpackDecode } from '@msgpack/msgpack';
import { ENVELOPE_PROTO } from './envelope.proto.js';

/** The envelope's protobuf package (proto/schemas/playhouse/envelope.proto). */
export const ENVELOPE_PACKAGE = 'playhouse.envelope';

/**
 * Whether a `.proto` source is an envelope (package `playhouse.envelope`).
 * @param {unknown} src
 * @returns {boolean}
 */
function isEnvelope(src) {
  return typeof src === 'string' && /^\s*package\s+playhouse\.envelope\s*;/m.test(src);
}

/** @typedef {import('./tokens.js').CodecName} CodecName */

/**
 * Which game types a token's version maps to: `${package}.v${N}.${input}`
 * for the inputs the client sends, `${package}.v${N}.${state}` for the
 * payloads of `State` frames and `${package}.v${N}.${message}` for those of
 * reliable `Message` frames (the server's `Room::Wire` is
 * `(Input, State, Message)`, each converted per version by its schema).
 * `state` and `message` default to `output`: a game that wraps both in one
 * oneof on the wire (as arena's `Output` does) names only that.
 * @typedef {object} GameTypes
 * @property {string} package  e.g. `arena`
 * @property {string} [input='Input']
 * @property {string} [output='Output']  what `state` and `message` default to
 * @property {string} [state]  the type of state payloads (default: `output`)
 * @property {string} [message]  the type of reliable message payloads (default: `output`)
 */

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const NUMBER_TYPES = new Set(['double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);

/** toObject options: the serde/msgpack shape (see normalize). */
const TO_OBJECT = Object.freeze({ longs: Number, enums: Number, defaults: true, oneofs: false });

/**
 * The envelope this package ships and the game's .proto sources, parsed
 * into one protobufjs root.
 */
export class Schema {
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
  constructor(sources) {
    if (!Array.isArray(sources)) throw new TypeError('playhouse-client: `protos` must be an array of .proto sources (strings)');
    this.root = new protobuf.Root();
    if (!sources.some(isEnvelope)) protobuf.parse(ENVELOPE_PROTO, this.root, { keepCase: false });
    sources.forEach((src, i) => {
      if (typeof src !== 'string') {
        throw new TypeError(`playhouse-client: protos[${i}] is a ${typeof src}, not the text of a .proto file`);
      }
      try {
        protobuf.parse(src, this.root, { keepCase: false });
      } catch (e) {
        throw new TypeError(`playhouse-client: protos[${i}] does not parse: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
    try {
      this.root.resolveAll();
    } catch (e) {
      throw new TypeError(`playhouse-client: the .proto sources do not resolve: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /**
   * A message type by its full name, or null.
   * @param {string} name  e.g. `arena.v2.Input`
   * @returns {protobuf.Type | null}
   */
  type(name) {
    const t = this.root.lookup(name);
    return t instanceof protobuf.Type ? t : null;
  }
}

/** @param {unknown} v @returns {v is Record<string, any>} */
function isPlainObject(v) {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

/**
 * A plain `Uint8Array` over the same memory (Node's `Buffer` → `Uint8Array`,
 * arrays copied), so both codecs hand out the same class.
 * @param {unknown} v
 * @returns {Uint8Array}
 */
function toBytes(v) {
  if (v instanceof Uint8Array) return v.constructor === Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (Array.isArray(v)) return Uint8Array.from(v);
  return new Uint8Array(0);
}

/**
 * @param {protobuf.OneOf} o
 * @returns {boolean} whether this is the synthetic oneof of a proto3 `optional` field
 */
function isSyntheticOneof(o) {
  return o.fieldsArray.length === 1 && o.fieldsArray[0].options?.proto3_optional === true;
}

/**
 * One value of a field (an element, for repeated and map fields).
 * @param {protobuf.Field} field
 * @param {unknown} v
 * @param {boolean} fromProto
 * @param {boolean} nullable  a singular message field: absent → null
 * @returns {unknown}
 */
function normValue(field, v, fromProto, nullable) {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) {
    if (v === null || v === undefined) return nullable ? null : normMessage(rt, {}, fromProto);
    return normMessage(rt, v, fromProto);
  }
  if (rt instanceof protobuf.Enum) {
    if (typeof v === 'number') return v;
    if (typeof v === 'string' && rt.values[v] !== undefined) return rt.values[v];
    return 0;
  }
  const t = field.type;
  if (t === 'bytes') return toBytes(v);
  if (t === 'string') return typeof v === 'string' ? v : '';
  if (t === 'bool') return typeof v === 'boolean' ? v : false;
  if (LONG_TYPES.has(t)) {
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    if (isPlainObject(v) && typeof v.toNumber === 'function') return v.toNumber();
    return 0;
  }
  if (NUMBER_TYPES.has(t)) return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : 0;
  return v ?? null;
}

/**
 * @param {protobuf.Field} field
 * @param {unknown} v
 * @param {boolean} fromProto
 * @returns {unknown}
 */
function normField(field, v, fromProto) {
  if (field.map) {
    /** @type {Record<string, unknown>} */
    const out = {};
    if (isPlainObject(v)) for (const [k, x] of Object.entries(v)) out[k] = normValue(field, x, fromProto, false);
    return out;
  }
  if (field.repeated) return Array.isArray(v) ? v.map((x) => normValue(field, x, fromProto, false)) : [];
  return normValue(field, v, fromProto, true);
}

/**
 * @param {protobuf.Type} type
 * @param {unknown} src
 * @param {boolean} fromProto  src is protobufjs `toObject` output (oneof members as own keys)
 * @returns {Record<string, unknown>}
 */
function normMessage(type, src, fromProto) {
  const obj = isPlainObject(src) ? src : {};
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const field of type.fieldsArray) {
    const group = field.partOf;
    if (group && !isSyntheticOneof(group)) continue;
    if (group) {
      // proto3 `optional`: prost makes it Option<T>, serde writes nil.
      const v = obj[field.name];
      out[field.name] = v === undefined || v === null ? null : normValue(field, v, fromProto, true);
    } else {
      out[field.name] = normField(field, obj[field.name], fromProto);
    }
  }
  for (const group of type.oneofsArray) {
    if (isSyntheticOneof(group)) continue;
    /** @type {string | null} */
    let which = null;
    /** @type {unknown} */
    let value;
    if (fromProto) {
      for (const f of group.fieldsArray) {
        if (obj[f.name] !== undefined && obj[f.name] !== null) {
          which = f.name;
          value = obj[f.name];
          break;
        }
      }
    } else {
      const v = obj[group.name];
      if (isPlainObject(v)) {
        const keys = Object.keys(v);
        if (keys.length === 1 && group.oneof.includes(keys[0])) {
          which = keys[0];
          value = v[which];
        }
      }
    }
    if (which === null) {
      out[group.name] = null; // unset, or a case this schema does not know
    } else {
      const f = /** @type {protobuf.Field} */ (type.fields[which]);
      out[group.name] = { [which]: normValue(f, value, fromProto, false) };
    }
  }
  return out;
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
export function normalize(type, obj, from) {
  if (from === 'proto') {
    const plain = obj instanceof protobuf.Message ? type.toObject(obj, TO_OBJECT) : obj;
    return normMessage(type, plain, true);
  }
  return normMessage(type, obj, false);
}

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
export function toProtoShape(type, src) {
  if (!isPlainObject(src)) return {};
  /** @type {Record<string, unknown>} */
  const out = { ...src };
  for (const group of type.oneofsArray) {
    if (isSyntheticOneof(group)) continue;
    const v = src[group.name];
    if (type.fields[group.name]) continue; // a field with the oneof's name: leave it
    delete out[group.name];
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && group.oneof.includes(keys[0])) out[keys[0]] = v[keys[0]];
    }
  }
  for (const field of type.fieldsArray) {
    const rt = field.resolvedType;
    const v = out[field.name];
    if (!(rt instanceof protobuf.Type) || v === undefined || v === null) continue;
    if (field.map && isPlainObject(v)) {
      out[field.name] = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toProtoShape(rt, x)]));
    } else if (field.repeated && Array.isArray(v)) {
      out[field.name] = v.map((x) => toProtoShape(rt, x));
    } else {
      out[field.name] = toProtoShape(rt, v);
    }
  }
  return out;
}

/**
 * Encodes a message given in the normalised shape with protobuf.
 * @param {protobuf.Type} type
 * @param {unknown} obj
 * @returns {Uint8Array}
 */
export function encodeProto(type, obj) {
  return toBytes(type.encode(type.fromObject(toProtoShape(type, obj))).finish());
}

/**
 * Decodes protobuf bytes into the normalised shape.
 * @param {protobuf.Type} type
 * @param {Uint8Array} bytes
 * @returns {Record<string, any>}
 */
export function decodeProto(type, bytes) {
  return normalize(type, type.decode(bytes), 'proto');
}

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
export function encodeMsgpack(type, obj) {
  const value = type ? normalize(type, type.fromObject(toProtoShape(type, obj)), 'proto') : obj;
  return msgpackEncode(value, { ignoreUndefined: true });
}

/**
 * Decodes MessagePack bytes; with a schema type, normalised (see
 * {@link normalize}), otherwise as decoded (the server already writes every
 * field).
 *
 * @param {protobuf.Type | null} type
 * @param {Uint8Array} bytes
 * @returns {any}
 */
export function decodeMsgpack(type, bytes) {
  const v = msgpackDecode(bytes);
  return type ? normalize(type, v, 'msgpack') : v;
}

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
export function gameTypeNames(game, version) {
  const pkg = `${game.package}.v${version}`;
  const output = game.output ?? 'Output';
  return {
    input: `${pkg}.${game.input ?? 'Input'}`,
    state: `${pkg}.${game.state ?? output}`,
    message: `${pkg}.${game.message ?? output}`,
  };
}

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
export function missingTypes(schema, token, game) {
  if (token.codec !== 'proto') return null;
  const names = gameTypeNames(game, token.version);
  const wanted = [`${ENVELOPE_PACKAGE}.ClientMsg`, `${ENVELOPE_PACKAGE}.ServerMsg`, names.input, names.state, names.message];
  const missing = [...new Set(schema ? wanted.filter((n) => !schema.type(n)) : wanted)];
  if (!missing.length) return null;
  return (
    `playhouse-client: token ${token.token} needs the .proto sources in \`protos\` ` +
    `(missing: ${missing.join(', ')}; game types are \`\${game.package}.v\${N}.\${game.input|state|message}\`, ` +
    `state and message defaulting to game.output)`
  );
}

/**
 * Builds the codec of a negotiated token.
 *
 * @param {import('./tokens.js').Token} token
 * @param {Schema | null} schema
 * @param {GameTypes} game
 * @returns {WireCodec}
 * @throws {TypeError} a proto token without its types
 */
export function createCodec(token, schema, game) {
  const missing = missingTypes(schema, token, game);
  if (missing) throw new TypeError(missing);
  const names = gameTypeNames(game, token.version);
  const clientMsg = schema?.type(`${ENVELOPE_PACKAGE}.ClientMsg`) ?? null;
  const serverMsg = schema?.type(`${ENVELOPE_PACKAGE}.ServerMsg`) ?? null;
  const input = schema?.type(names.input) ?? null;
  const state = schema?.type(names.state) ?? null;
  const message = schema?.type(names.message) ?? null;
  if (token.codec === 'proto') {
    const [cm, sm, it, st, mt] = /** @type {protobuf.Type[]} */ ([clientMsg, serverMsg, input, state, message]);
    return {
      codec: 'proto',
      version: token.version,
      encodeClient: (msg) => encodeProto(cm, msg),
      decodeServer: (bytes) => decodeProto(sm, bytes),
      encodeInput: (obj) => encodeProto(it, obj),
      decodeState: (bytes) => decodeProto(st, bytes),
      decodeMessage: (bytes) => decodeProto(mt, bytes),
    };
  }
  return {
    codec: 'msgpack',
    version: token.version,
    encodeClient: (msg) => encodeMsgpack(clientMsg, msg),
    decodeServer: (bytes) => decodeMsgpack(serverMsg, bytes),
    encodeInput: (obj) => encodeMsgpack(input, obj),
    decodeState: (bytes) => decodeMsgpack(state, bytes),
    decodeMessage: (bytes) => decodeMsgpack(message, bytes),
  };
}
