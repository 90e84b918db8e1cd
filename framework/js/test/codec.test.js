import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode as mpEncode, decode as mpDecode } from '@msgpack/msgpack';
import { Client, Schema, createCodec, normalize, encodeProto, decodeProto, encodeMsgpack, decodeMsgpack, parseToken } from '../src/index.js';
import { ALL_PROTOS, DOTS_GAME, DOTS_V1_PROTO, GAME } from './helpers.js';

const schema = new Schema(ALL_PROTOS);
/** @param {string} name */
const type = (name) => {
  const t = schema.type(name);
  assert.ok(t, name);
  return t;
};
const ClientMsg = type('playhouse.envelope.ClientMsg');
const ServerMsg = type('playhouse.envelope.ServerMsg');
const V2Output = type('arena.v2.Output');
const V2Input = type('arena.v2.Input');
/** @param {string} t */
const codec = (t) => createCodec(/** @type {import('../src/tokens.js').Token} */ (parseToken(t)), schema, GAME);
/** @param {Uint8Array} b */
const hex = (b) => Buffer.from(b).toString('hex');

/** Every Uint8Array in a value is a plain Uint8Array (not Node's Buffer). */
function assertPlainBytes(/** @type {unknown} */ v, path = '$') {
  if (v instanceof Uint8Array) {
    assert.equal(v.constructor, Uint8Array, `${path} is a ${v.constructor.name}`);
  } else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) assertPlainBytes(x, `${path}.${k}`);
  }
}

test('protocol.md §3.1: ClientMsg{ping{clientTime: 1}} in protobuf is 42 02 08 01', () => {
  assert.equal(hex(codec('arena.v2.proto').encodeClient({ kind: { ping: { clientTime: 1 } } })), '42020801');
});

test('protocol.md §3.2: the same ping in MessagePack is the 25 documented bytes (with and without a schema)', () => {
  const want = '81a46b696e6481a470696e6781aa636c69656e7454696d6501';
  assert.equal(hex(codec('arena.v2.msgpack').encodeClient({ kind: { ping: { clientTime: 1 } } })), want);
  assert.equal(hex(encodeMsgpack(null, { kind: { ping: { clientTime: 1 } } })), want);
});

test('protocol.md §3.2: the documented Pong capture decodes, uint64 as a number', () => {
  const bytes = Buffer.from('81a46b696e6481a4706f6e6782aa636c69656e7454696d6501aa73657276657254696d65cf000001a21034c1ae', 'hex');
  // ServerMsg.seq (absent in the capture: a Pong is not reliable) decodes as 0, like every default
  assert.deepEqual(codec('arena.v2.msgpack').decodeServer(bytes), { kind: { pong: { clientTime: 1, serverTime: 1795568222638 } }, seq: 0 });
});

test('msgpack encoding: every field written like serde does, payload bytes as bin, options as strings', () => {
  const c = codec('arena.v2.msgpack');
  const payload = c.encodeInput({ moveX: 1, sprint: true });
  assert.deepEqual(mpDecode(payload), { moveX: 1, moveY: 0, sprint: true, fire: false, aimX: 0, aimY: 0 });
  const msg = c.encodeClient({ kind: { input: { room: 'r', seq: 3, payload } } });
  assert.equal(msg[msg.indexOf(0xa7) + 8], 0xc4, 'payload is bin 8'); // after "payload" (a7 + 7 bytes)
  assert.deepEqual(mpDecode(msg), { kind: { input: { room: 'r', seq: 3, payload } } });
  const join = c.encodeClient({ kind: { joinOrCreate: { request: 1, roomType: 'arena', options: { name: 'ann', n: 3 } } } });
  assert.deepEqual(mpDecode(join), { kind: { joinOrCreate: { request: 1, roomType: 'arena', options: { name: 'ann', n: '3' } } } });
  // integers stay integers, floats become floats; wrong-typed ints are truncated by the schema
  assert.deepEqual(mpDecode(c.encodeInput({ moveX: -1.7, aimX: 0.5 })), { moveX: -1, moveY: 0, sprint: false, fire: false, aimX: 0.5, aimY: 0 });
});

test('protobuf encoding: fromObject of the normalised shape, readable by protobufjs', () => {
  const c = codec('arena.v2.proto');
  const bytes = c.encodeClient({ kind: { joinOrCreate: { request: 7, roomType: 'arena', options: { name: 'ann' } } } });
  const back = ClientMsg.toObject(ClientMsg.decode(bytes));
  assert.deepEqual(JSON.parse(JSON.stringify(back)), { joinOrCreate: { request: 7, roomType: 'arena', options: { name: 'ann' } } });
  // the protobufjs shape is accepted too
  assert.equal(hex(encodeProto(ClientMsg, { ping: { clientTime: 1 } })), '42020801');
  const input = V2Input.toObject(V2Input.decode(c.encodeInput({ moveX: -1, sprint: true, aimY: 0.25 })));
  assert.deepEqual(input, { moveX: -1, sprint: true, aimY: 0.25 });
});

/** A v2 Output as the Rust server's serde writes it to MessagePack: every field, nested oneof. */
const stateOutput = {
  kind: {
    state: {
      players: [
        { id: 1, x: 1.5, y: 2.25, score: 3, vx: -16, vy: 0, name: 'ann', hp: 100, alive: true, respawnMs: 0, color: 0xff8800 },
      ],
      pickups: [{ id: 4, x: 10, y: 20, kind: 2 }],
      projectiles: [],
      round: { number: 2, remainingMs: 61000, intermission: false },
      width: 1000,
      height: 600,
      scores: [],
    },
  },
};

test('normalisation: the same State in both codecs decodes to the same objects', () => {
  const proto = codec('arena.v2.proto');
  const mp = codec('arena.v2.msgpack');
  const statePayloadProto = encodeProto(V2Output, stateOutput);
  const statePayloadMp = mpEncode(stateOutput);
  const acks = [{ client: 1, seq: 9 }, { client: 2, seq: 0 }];
  const fromProto = proto.decodeServer(
    encodeProto(ServerMsg, { kind: { state: { room: 'AbCdEfGhJk', tick: 2 ** 40, acks, payload: statePayloadProto } } }),
  );
  const fromMp = mp.decodeServer(mpEncode({ kind: { state: { room: 'AbCdEfGhJk', tick: 2 ** 40, acks, payload: statePayloadMp } } }));
  assert.equal(fromProto.kind.state.tick, 2 ** 40);
  assert.ok(fromProto.kind.state.payload instanceof Uint8Array);
  assertPlainBytes(fromProto);
  assertPlainBytes(fromMp);
  assert.deepEqual(proto.decodeState(fromProto.kind.state.payload), stateOutput);
  assert.deepEqual(mp.decodeState(fromMp.kind.state.payload), stateOutput);
  const strip = (/** @type {any} */ m) => ({ ...m.kind.state, payload: null });
  assert.deepEqual(strip(fromProto), strip(fromMp));
});

test('normalisation: defaults filled in; enums, nulls and empty oneofs as msgpack has them', () => {
  // protobuf omits defaults on the wire; the decoded object has them all
  const empty = decodeProto(V2Output, encodeProto(V2Output, { kind: { state: {} } }));
  assert.deepEqual(empty, { kind: { state: { players: [], pickups: [], projectiles: [], round: null, width: 0, height: 0, scores: [] } } });
  assert.deepEqual(decodeProto(V2Output, new Uint8Array(0)), { kind: null });
  const ev = { kind: { event: { text: 'bob joined', kind: 1, actor: 2, target: 0 } } };
  assert.deepEqual(decodeProto(V2Output, encodeProto(V2Output, ev)), ev);
  assert.deepEqual(decodeMsgpack(V2Output, mpEncode(ev)), ev);
  // envelope enums are numbers, in both
  const je = { kind: { joinError: { request: 3, code: 2, reason: 'full' } }, seq: 7 };
  assert.deepEqual(decodeProto(ServerMsg, encodeProto(ServerMsg, je)), je);
  assert.deepEqual(decodeMsgpack(ServerMsg, mpEncode(je)), je);
  // enum names given to the encoder become numbers
  assert.deepEqual(decodeProto(ServerMsg, encodeProto(ServerMsg, { kind: { left: { room: 'r', reason: 'REQUESTED' } } })), {
    kind: { left: { room: 'r', reason: 1, detail: '' } },
    seq: 0,
  });
});

test('normalisation: msgpack from a newer server (unknown keys, unknown oneof case, missing keys)', () => {
  const newer = { kind: { state: { players: [{ id: 1, x: 1, mood: 'happy' }], future: [1, 2] } } };
  assert.deepEqual(decodeMsgpack(V2Output, mpEncode(newer)), {
    kind: {
      state: {
        players: [{ id: 1, x: 1, y: 0, score: 0, vx: 0, vy: 0, name: '', hp: 0, alive: false, respawnMs: 0, color: 0 }],
        pickups: [],
        projectiles: [],
        round: null,
        width: 0,
        height: 0,
        scores: [],
      },
    },
  });
  assert.deepEqual(decodeMsgpack(ServerMsg, mpEncode({ kind: { teleport: { x: 1 } } })), { kind: null, seq: 0 });
  assert.deepEqual(decodeMsgpack(ServerMsg, mpEncode({ kind: null, seq: 3 })), { kind: null, seq: 3 });
  // without a schema msgpack is decoded as is
  assert.deepEqual(decodeMsgpack(null, mpEncode(newer)), newer);
});

test('normalize() takes protobufjs messages and toObject output alike', () => {
  const msg = V2Output.decode(encodeProto(V2Output, stateOutput));
  assert.deepEqual(normalize(V2Output, msg, 'proto'), stateOutput);
  assert.deepEqual(normalize(V2Output, { state: { width: 5 } }, 'proto').kind.state.width, 5);
  assert.deepEqual(normalize(V2Output, stateOutput, 'msgpack'), stateOutput);
});

test('proto3 optional fields (synthetic oneofs) are value or null', () => {
  const s = new Schema(['syntax = "proto3"; package t.v1; message M { optional uint32 a = 1; oneof kind { string x = 2; uint64 y = 3; } }']);
  const M = /** @type {import('protobufjs').Type} */ (s.type('t.v1.M'));
  assert.deepEqual(decodeProto(M, encodeProto(M, {})), { a: null, kind: null });
  assert.deepEqual(decodeProto(M, encodeProto(M, { a: 0, kind: { y: 5 } })), { a: 0, kind: { y: 5 } });
  assert.deepEqual(decodeMsgpack(M, mpEncode({ a: 7, kind: { x: 'hi' } })), { a: 7, kind: { x: 'hi' } });
});

/** @param {string} t @param {Schema} sch @param {import('../src/codec.js').GameTypes} game */
const codecOf = (t, sch, game) => createCodec(/** @type {import('../src/tokens.js').Token} */ (parseToken(t)), sch, game);

test('game.state and game.message: state and message payloads decode as their own types, in both codecs', () => {
  const dots = new Schema([DOTS_V1_PROTO]);
  const State = /** @type {import('protobufjs').Type} */ (dots.type('dots.v1.State'));
  const Event = /** @type {import('protobufjs').Type} */ (dots.type('dots.v1.Event'));
  const state = { dots: [{ id: 1, x: 2.5, y: 0 }] };
  const event = { text: 'ann joined' };
  for (const token of ['dots.v1.proto', 'dots.v1.msgpack']) {
    const c = codecOf(token, dots, DOTS_GAME);
    const encode = c.codec === 'proto' ? encodeProto : encodeMsgpack;
    assert.deepEqual(c.decodeState(encode(State, state)), state, token);
    assert.deepEqual(c.decodeMessage(encode(Event, event)), event, token);
  }
  // Each is normalised with its own type: defaults of that type, nothing of the other's.
  const mp = codecOf('dots.v1.msgpack', dots, DOTS_GAME);
  assert.deepEqual(mp.decodeState(mpEncode({ dots: [{ id: 2 }] })), { dots: [{ id: 2, x: 0, y: 0 }] });
  assert.deepEqual(mp.decodeMessage(mpEncode({ text: 'hi' })), { text: 'hi' });
});

test('game.state and game.message default to game.output (arena: one Output oneof for both)', () => {
  const ev = { kind: { event: { text: 'bob joined', kind: 1, actor: 2, target: 0 } } };
  for (const token of ['arena.v2.proto', 'arena.v2.msgpack']) {
    const encode = token.endsWith('proto') ? encodeProto : encodeMsgpack;
    for (const game of [GAME, { package: 'arena' }]) {
      const c = codecOf(token, schema, game);
      assert.deepEqual(c.decodeState(encode(V2Output, stateOutput)), stateOutput, token);
      assert.deepEqual(c.decodeMessage(encode(V2Output, ev)), ev, token);
    }
  }
  // One of the two named, the other still the output.
  const V2Event = type('arena.v2.Event');
  const c = codecOf('arena.v2.proto', schema, { package: 'arena', message: 'Event' });
  assert.deepEqual(c.decodeState(encodeProto(V2Output, stateOutput)), stateOutput);
  assert.deepEqual(c.decodeMessage(encodeProto(V2Event, ev.kind.event)), ev.kind.event);
});

test('a proto token needs the state and message types it is told of, named when missing', () => {
  const connect = (/** @type {any} */ game) => new Client('ws://127.0.0.1:9/ws', { tokens: ['dots.v1.proto'], protos: [DOTS_V1_PROTO], game });
  assert.throws(() => connect({ package: 'dots', state: 'State', message: 'Chat' }), (e) => {
    assert.ok(e instanceof TypeError);
    assert.match(e.message, /\(missing: dots\.v1\.Chat;/);
    return true;
  });
  // Neither named: both are the output, which dots does not have (named once).
  assert.throws(() => connect({ package: 'dots' }), /\(missing: dots\.v1\.Output;/);
});
