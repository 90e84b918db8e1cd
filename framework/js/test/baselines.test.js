// State deltas in the client (baselines.js), against the scripted fake
// server: states sent as deltas are rebuilt before they are decoded (the
// game sees whole states), every state applied is acknowledged with
// StateAck, a delta against a state the client does not hold is dropped and
// answered with StateAck{tick: 0}, and the states held are forgotten on a
// new connection, a join and a leave.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Schema, createCodec, parseTokens, encodeProto, decodeProto, encodeMsgpack, decodeMsgpack } from '../src/index.js';
import { MAX_HISTORY, ACK_INTERVAL_MS } from '../src/baselines.js';
import { FakeWebSocket, resetFake } from './fake-ws.js';
import { fakeSessions, event } from './fake-sessions.js';
import { waitFor, PROTOS, GAME, FAKE_URL as URL, fakeOptions as opts, fakeSocket as socket } from './helpers.js';

/**
 * The StateAcks a socket carried, in order, as `room:tick`.
 * @param {FakeWebSocket} [ws]
 * @returns {string[]}
 */
const stateAcks = (ws = socket()) => ws.sent.filter((m) => m.kind.stateAck).map((m) => `${m.kind.stateAck.room}:${m.kind.stateAck.tick}`);

/**
 * LEB128.
 * @param {number} v
 * @returns {number[]}
 */
function leb(v) {
  const out = [];
  for (; v >= 0x80; v = Math.floor(v / 128)) out.push((v % 128) | 0x80);
  out.push(v);
  return out;
}

/**
 * A delta (proto/src/delta.rs format) from `base` to `target`: the common
 * prefix copied, the middle as a literal, the common suffix copied.
 * @param {Uint8Array} base
 * @param {Uint8Array} target
 * @returns {Uint8Array}
 */
function diff(base, target) {
  let p = 0;
  while (p < base.length && p < target.length && base[p] === target[p]) p++;
  let s = 0;
  while (s < base.length - p && s < target.length - p && base[base.length - 1 - s] === target[target.length - 1 - s]) s++;
  const mid = target.subarray(p, target.length - s);
  const ops = [...leb(target.length)];
  if (p) ops.push(...leb(p << 2));
  if (mid.length) ops.push(...leb((mid.length << 2) | 1), ...mid);
  const shift = base.length - s - (p + mid.length);
  if (shift > 0) ops.push(...leb((shift << 2) | 2));
  if (shift < 0) ops.push(...leb((-shift << 2) | 3));
  if (s) ops.push(...leb(s << 2));
  return Uint8Array.from(ops);
}

/** The payload of the state of `tick`: a game event `tick <n>` (msgpack). @param {number} tick */
const payload = (tick) => event(`tick ${tick}`);

/**
 * The server sends the state of `tick` of `room`: whole, or as a delta
 * against the state of `baseline`.
 * @param {string} room
 * @param {number} tick
 * @param {number} [baseline=0]
 */
function send(room, tick, baseline = 0) {
  const bytes = baseline ? diff(payload(baseline), payload(tick)) : payload(tick);
  socket().push({ kind: { state: { room, tick, acks: [], payload: bytes, baseline } } });
}

/** @type {ReturnType<typeof fakeSessions>} */
let fake;
beforeEach(() => {
  fake = fakeSessions();
  resetFake(fake.server);
});

test('a delta state reaches the game whole; states applied are acknowledged, deltas once per interval', async () => {
  const c = await Client.connect(URL, opts());
  const room = await c.join('room1');
  /** @type {string[]} */
  const seen = [];
  room.onState((s) => seen.push(`${s.tick} ${s.payload.kind.event.text}`));
  /** @type {number[]} */
  const ticks = [];
  c.on('state', (s) => ticks.push(s.tick));

  send('room1', 1);
  assert.deepEqual(stateAcks(), ['room1:1']);
  send('room1', 2, 1);
  send('room1', 3, 1);
  send('room1', 4, 3);
  assert.deepEqual(seen, ['1 tick 1', '2 tick 2', '3 tick 3', '4 tick 4'], 'rebuilt, then decoded as usual');
  assert.deepEqual(ticks, [1, 2, 3, 4], 'the client event too');
  assert.deepEqual(stateAcks(), ['room1:1'], 'a whole state is acked at once, deltas once per interval');
  await new Promise((r) => setTimeout(r, ACK_INTERVAL_MS + 10));
  send('room1', 5, 4);
  assert.deepEqual(stateAcks(), ['room1:1', 'room1:5']);

  const whole = payload(1).length;
  const deltas = [diff(payload(1), payload(2)), diff(payload(1), payload(3)), diff(payload(3), payload(4)), diff(payload(4), payload(5))];
  assert.ok(deltas.every((d) => d.length < whole / 4), 'the test deltas are small');
  assert.deepEqual(c.stats, {
    wholeStates: 1,
    wholeBytes: whole,
    deltaStates: 4,
    deltaBytes: deltas.reduce((n, d) => n + d.length, 0),
    rebuiltBytes: 4 * whole,
    deltaFailures: 0,
    compressedStates: 0,
    compressedBytes: 0,
    inflatedBytes: 0,
    inflateMs: 0,
    inflateFailures: 0,
  });
  await c.close();
});

test('a delta against a state not held, or one that does not apply, is dropped and answered with StateAck 0', async () => {
  const c = await Client.connect(URL, opts());
  const room = await c.join('room1');
  /** @type {number[]} */
  const seen = [];
  room.onState((s) => seen.push(s.tick));
  send('room1', 1);
  send('room1', 3, 2); // never had tick 2
  assert.deepEqual(seen, [1], 'not emitted');
  assert.deepEqual(stateAcks(), ['room1:1', 'room1:0'], 'the server is told to send the next one whole');
  socket().push({ kind: { state: { room: 'room1', tick: 4, acks: [], payload: Uint8Array.of(200, 1), baseline: 1 } } }); // malformed
  assert.deepEqual(seen, [1]);
  assert.deepEqual(stateAcks(), ['room1:1', 'room1:0'], 'asked once, until a state applies again');
  assert.equal(c.stats.deltaFailures, 2);

  send('room1', 5, 1); // one still in flight against a state held: fine
  send('room1', 6);
  assert.deepEqual(seen, [1, 5, 6]);
  assert.deepEqual(stateAcks(), ['room1:1', 'room1:0', 'room1:5', 'room1:6']);
  send('room1', 7, 3);
  assert.deepEqual(stateAcks().at(-1), 'room1:0', 'and asked again after a state applied');
  assert.deepEqual({ ...c.stats, wholeBytes: 0, deltaBytes: 0, rebuiltBytes: 0 }, {
    wholeStates: 2,
    wholeBytes: 0,
    deltaStates: 1,
    deltaBytes: 0,
    rebuiltBytes: 0,
    deltaFailures: 3,
    compressedStates: 0,
    compressedBytes: 0,
    inflatedBytes: 0,
    inflateMs: 0,
    inflateFailures: 0,
  });
  await c.close();
});

test('the states held: older than the baseline last used, past the last 64, or of a restarted room are gone', async () => {
  const c = await Client.connect(URL, opts());
  const room = await c.join('room1');
  /** @type {number[]} */
  const seen = [];
  room.onState((s) => seen.push(s.tick));
  for (let t = 1; t <= 5; t++) send('room1', t);
  send('room1', 6, 4);
  send('room1', 7, 3); // the server never goes back to an older baseline: dropped
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  send('room1', 8, 4); // the baseline used is still held
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 8]);

  for (let t = 10; t < 10 + MAX_HISTORY + 1; t++) send('room1', t);
  send('room1', 100, 10); // 65 states later: tick 10 went
  send('room1', 101, 11);
  assert.deepEqual(seen.slice(-2), [10 + MAX_HISTORY, 101]);

  send('room1', 3); // the room started over: ticks go back
  send('room1', 4, 101);
  send('room1', 5, 3);
  assert.deepEqual(seen.slice(-2), [3, 5]);
  assert.equal(c.stats.deltaFailures, 3);
  await c.close();
});

test('a resume (a new connection) forgets the states held: a delta against one of them is dropped', async () => {
  const c = await Client.connect(URL, opts());
  const room = await c.join('room1');
  /** @type {number[]} */
  const seen = [];
  room.onState((s) => seen.push(s.tick));
  send('room1', 1);
  const first = socket();
  const resumed = waitFor(c, 'resumed', () => true, 2000);
  first.drop(1006);
  await resumed;
  assert.notEqual(socket(), first);
  send('room1', 2, 1);
  assert.deepEqual(seen, [1]);
  assert.deepEqual(stateAcks(), ['room1:0'], 'on the new connection');
  send('room1', 3);
  send('room1', 4, 3);
  assert.deepEqual(seen, [1, 3, 4]);
  assert.deepEqual(stateAcks(), ['room1:0', 'room1:3'], 'a delta within the ack interval is not acked');
  await c.close();
});

test('a leave and a join again forget the states held of the room, not those of other rooms', async () => {
  const c = await Client.connect(URL, opts());
  await c.join('room1');
  await c.join('room2');
  /** @type {string[]} */
  const seen = [];
  c.on('state', (s) => seen.push(`${s.room}:${s.tick}`));
  send('room1', 1);
  send('room2', 1);
  await c.leave('room1');
  await c.join('room1');
  send('room1', 2, 1);
  send('room2', 2, 1);
  assert.deepEqual(seen, ['room1:1', 'room2:1', 'room2:2']);
  assert.deepEqual(stateAcks(), ['room1:1', 'room2:1', 'room1:0']);
  await c.close();
});

test('deltas: false: no StateAck ever, so the server sends whole states; a delta is dropped all the same', async () => {
  const c = await Client.connect(URL, opts({ deltas: false }));
  const room = await c.join('room1');
  /** @type {number[]} */
  const seen = [];
  room.onState((s) => seen.push(s.tick));
  send('room1', 1);
  send('room1', 2);
  send('room1', 3, 2);
  assert.deepEqual(seen, [1, 2]);
  assert.deepEqual(stateAcks(), []);
  assert.equal(c.stats.wholeStates, 2);
  assert.equal(c.stats.deltaFailures, 1);
  assert.throws(() => new Client(URL, opts({ deltas: /** @type {any} */ ('no') })), /options\.deltas must be true or false/);
  await c.close();
});

test('a server whose Welcome does not offer deltas never gets a StateAck (it would refuse it)', async () => {
  fake.state.noDeltas = true;
  const c = await Client.connect(URL, opts());
  const room = await c.join('room1');
  /** @type {number[]} */
  const seen = [];
  room.onState((s) => seen.push(s.tick));
  send('room1', 1);
  send('room1', 2);
  assert.deepEqual(seen, [1, 2]);
  assert.deepEqual(stateAcks(), []);
  await c.close();
});

test('StateAck, State.baseline and State.compression in both codecs', () => {
  const schema = new Schema([PROTOS.arenaV2]);
  const type = (/** @type {string} */ name) => /** @type {import('protobufjs').Type} */ (schema.type(`playhouse.envelope.${name}`));
  const ack = { kind: { stateAck: { room: 'r1', tick: 42 } } };
  const state = { kind: { state: { room: 'r1', tick: 43, acks: [], payload: Uint8Array.of(1, 2), baseline: 42, compression: 1 } }, seq: 0 };
  for (const token of ['arena.v2.proto', 'arena.v2.msgpack']) {
    const codec = createCodec(parseTokens([token])[0], schema, GAME);
    const [encode, decode] = codec.codec === 'proto' ? [encodeProto, decodeProto] : [encodeMsgpack, decodeMsgpack];
    assert.deepEqual(decode(type('ClientMsg'), codec.encodeClient(ack)).kind, ack.kind, token);
    assert.deepEqual(codec.decodeServer(encode(type('ServerMsg'), state)), state, token);
  }
});
