// Compressed states (`State.compression`, docs/protocol.md §4.6; compress.js):
// the payloads and deltas the Rust side deflated (proto/tests/
// compress_vectors.json) inflate to what they stand for, and what Rust
// refuses is refused here; inflating is bounded whatever the ratio; in the
// client (against the scripted fake server) a compressed payload is
// inflated before its delta is applied and before it is decoded, with
// deltas on or off, and one that does not inflate is dropped, counted and
// answered like a delta that does not apply; and the `compression` option
// asks on every connection's URL.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'fflate';
import { Client, InflateError, inflateState, withCompression, applyDelta, MAX_INFLATED_BYTES, Schema, createCodec, parseTokens, encodeProto, encodeMsgpack } from '../src/index.js';
import { MAX_STATE_BYTES, ACK_INTERVAL_MS } from '../src/baselines.js';
import { FakeWebSocket, resetFake } from './fake-ws.js';
import { fakeSessions, event } from './fake-sessions.js';
import { waitFor, PROTOS, GAME, FAKE_URL as URL, fakeOptions as opts, fakeSocket as socket } from './helpers.js';

const VECTORS = JSON.parse(readFileSync(new globalThis.URL('../../../proto/tests/compress_vectors.json', import.meta.url), 'utf8'));

/** @param {string} hex @returns {Uint8Array} */
const unhex = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));

/**
 * Raw DEFLATE (no zlib header), at the fastest level, as the server writes it.
 * @param {Uint8Array} bytes
 */
const deflate = (bytes) => deflateSync(bytes, { level: 1 });

test('the payloads the Rust side deflated inflate to what they stand for (proto/tests/compress_vectors.json)', () => {
  assert.ok(VECTORS.payloads.length >= 5);
  for (const v of VECTORS.payloads) {
    assert.deepEqual(inflateState(1, unhex(v.deflated)), unhex(v.payload), v.name);
  }
});

test('a delta the Rust side deflated applies once inflated (proto/tests/compress_vectors.json)', () => {
  assert.ok(VECTORS.deltas.length >= 2);
  for (const v of VECTORS.deltas) {
    const delta = inflateState(1, unhex(v.deflatedDelta));
    assert.deepEqual(applyDelta(unhex(v.baseline), delta, MAX_STATE_BYTES), unhex(v.target), v.name);
  }
});

test('what the Rust side refuses to inflate is refused here, for the same reason (proto/tests/compress_vectors.json)', () => {
  assert.ok(VECTORS.refused.length >= 4);
  for (const v of VECTORS.refused) {
    assert.throws(
      () => inflateState(v.compression, unhex(v.payload), v.limit),
      (/** @type {any} */ e) => e instanceof InflateError && e.kind === v.error,
      `${v.name}: ${v.error}`,
    );
  }
});

test('inflating is bounded whatever the ratio, and gives back any payload fflate deflated', () => {
  const zeros = deflate(new Uint8Array(1 << 20));
  assert.ok(zeros.length < 2048, 'a ratio far above the first buffer guessed');
  assert.equal(inflateState(1, zeros, 1 << 20).length, 1 << 20, 'exactly the limit: taken');
  assert.throws(() => inflateState(1, zeros, (1 << 20) - 1), (/** @type {any} */ e) => e.kind === 'too-large');
  // Stored blocks (noise does not shrink) are copied whole: past the buffer they are cut, then refused.
  let x = 7; // xorshift32
  const noise = Uint8Array.from({ length: 5000 }, () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x & 0xff));
  const stored = deflate(noise);
  assert.ok(stored.length > noise.length, 'stored, not shrunk');
  assert.deepEqual(inflateState(1, stored, 5000), noise);
  assert.throws(() => inflateState(1, stored, 4999), (/** @type {any} */ e) => e.kind === 'too-large');
  assert.equal(MAX_INFLATED_BYTES, 16 * 1024 * 1024, 'the Rust client bound');

  const plain = Uint8Array.of(1, 2, 3);
  assert.equal(inflateState(0, plain), plain, 'not compressed: the payload itself');
  assert.equal(inflateState(undefined, plain), plain, 'absent (msgpack leaves 0 out)');
  assert.throws(() => inflateState(1, new Uint8Array(0)), (/** @type {any} */ e) => e.kind === 'corrupt');
  assert.throws(() => inflateState(2, deflate(plain)), (/** @type {any} */ e) => e.kind === 'unknown');

  for (const len of [0, 1, 100, 1023, 1024, 1025, 8191, 8192, 70_000]) {
    const data = Uint8Array.from({ length: len }, (_, i) => (i * 31 + (i >> 5)) % 251);
    assert.deepEqual(inflateState(1, deflate(data)), data, `${len} bytes`);
  }
});

test('withCompression adds compress=deflate to the query, once', () => {
  assert.equal(withCompression('ws://h:1/ws'), 'ws://h:1/ws?compress=deflate');
  assert.equal(withCompression('wss://h/ws?token=t'), 'wss://h/ws?token=t&compress=deflate');
  assert.equal(withCompression('ws://h/ws?compress=deflate'), 'ws://h/ws?compress=deflate');
  assert.equal(withCompression('ws://h/ws?a=1&compress=zstd,deflate'), 'ws://h/ws?a=1&compress=zstd,deflate', 'asks already');
  assert.equal(withCompression('ws://h/ws?nocompress=1'), 'ws://h/ws?nocompress=1&compress=deflate');
});

test('State.compression and Welcome.compression in both codecs', () => {
  const schema = new Schema([PROTOS.arenaV2]);
  const type = (/** @type {string} */ name) => /** @type {import('protobufjs').Type} */ (schema.type(`playhouse.envelope.${name}`));
  const welcome = { kind: { welcome: { session: 's', resumeToken: 't', serverTime: 1, protocol: 'p', deprecated: false, sunset: '', stateDeltas: true, compression: 'deflate' } }, seq: 0 };
  const state = { kind: { state: { room: 'r1', tick: 43, acks: [], payload: Uint8Array.of(1, 2), baseline: 0, compression: 1 } }, seq: 0 };
  for (const token of ['arena.v2.proto', 'arena.v2.msgpack']) {
    const codec = createCodec(parseTokens([token])[0], schema, GAME);
    const encode = codec.codec === 'proto' ? encodeProto : encodeMsgpack;
    assert.equal(codec.decodeServer(encode(type('ServerMsg'), welcome)).kind.welcome.compression, 'deflate', token);
    assert.equal(codec.decodeServer(encode(type('ServerMsg'), state)).kind.state.compression, 1, token);
  }
});

// The client, against the fake server.

/** @type {ReturnType<typeof fakeSessions>} */
let fake;
beforeEach(() => {
  fake = fakeSessions();
  resetFake(fake.server);
});

/**
 * The StateAcks a socket carried, in order, as `room:tick`.
 * @param {FakeWebSocket} [ws]
 */
const stateAcks = (ws = socket()) => ws.sent.filter((m) => m.kind.stateAck).map((m) => `${m.kind.stateAck.room}:${m.kind.stateAck.tick}`);

/** The payload of the state of `tick`: a game event, long enough to compress (msgpack). @param {number} tick */
const payload = (tick) => event(`tick ${tick}: ${'x=10 y=20 hp=100; '.repeat(20)}`);

/**
 * A delta (proto/src/delta.rs format) from `base` to `target`: the common
 * prefix copied, the rest a literal (the targets here are as long as their bases).
 * @param {Uint8Array} base
 * @param {Uint8Array} target
 */
function diff(base, target) {
  assert.equal(base.length, target.length);
  assert.ok(target.length < 16384);
  let p = 0;
  while (base[p] === target[p]) p++;
  const rest = target.subarray(p);
  const varint = (/** @type {number} */ v) => (v < 128 ? [v] : [(v & 127) | 128, v >> 7]);
  return Uint8Array.from([...varint(target.length), ...varint(p << 2), ...varint((rest.length << 2) | 1), ...rest]);
}

/**
 * The server sends the state of `tick`: whole or as a delta against the
 * state of `baseline`, compressed or not; or `bytes` as its payload.
 * @param {number} tick
 * @param {{ baseline?: number, compressed?: boolean, bytes?: Uint8Array, compression?: number }} [how]
 */
function send(tick, { baseline = 0, compressed = true, bytes, compression } = {}) {
  const plain = baseline ? diff(payload(baseline), payload(tick)) : payload(tick);
  const wire = bytes ?? (compressed ? deflate(plain) : plain);
  socket().push({ kind: { state: { room: 'room1', tick, acks: [], payload: wire, baseline, compression: compression ?? (compressed ? 1 : 0) } } });
}

test('compressed states, whole and deltas, are inflated before a delta applies and before decoding; stats count them', async () => {
  const c = await Client.connect(URL, opts({ compression: true }));
  assert.equal(c.compression, 'deflate', 'the Welcome said so');
  const room = await c.join('room1');
  /** @type {string[]} */
  const seen = [];
  room.onState((s) => seen.push(s.payload.kind.event.text.slice(0, 7)));
  send(1);
  send(2, { baseline: 1 });
  send(3, { baseline: 2, compressed: false });
  send(4, { baseline: 3 });
  send(5, { compressed: false });
  assert.deepEqual(seen, ['tick 1:', 'tick 2:', 'tick 3:', 'tick 4:', 'tick 5:'], 'whole, plain states only');
  const whole = payload(1).length;
  const d2 = diff(payload(1), payload(2));
  const d4 = diff(payload(3), payload(4));
  const compressed = [deflate(payload(1)), deflate(d2), deflate(d4)];
  assert.ok(compressed[0].length < whole / 4, 'the test state compresses');
  const s = c.stats;
  assert.ok(s.inflateMs >= 0 && s.inflateMs < 1000, `time inflating: ${s.inflateMs} ms`);
  assert.deepEqual({ ...s, inflateMs: 0 }, {
    wholeStates: 2,
    wholeBytes: 2 * whole,
    deltaStates: 3,
    deltaBytes: d2.length + diff(payload(2), payload(3)).length + d4.length,
    rebuiltBytes: 3 * whole,
    deltaFailures: 0,
    compressedStates: 3,
    compressedBytes: compressed.reduce((n, z) => n + z.length, 0),
    inflatedBytes: whole + d2.length + d4.length,
    inflateMs: 0,
    inflateFailures: 0,
  }, 'whole and delta bytes as inflated; compressedBytes as they came');
  assert.deepEqual(stateAcks(), ['room1:1', 'room1:5'], 'acked as usual: whole states at once, deltas once per interval');
  await c.close();
});

test('a payload that does not inflate is dropped, counted and answered with StateAck 0, once until a state applies', async () => {
  const c = await Client.connect(URL, opts({ compression: true }));
  const room = await c.join('room1');
  /** @type {number[]} */
  const seen = [];
  room.onState((s) => seen.push(s.tick));
  /** @type {any[]} */
  const errors = [];
  c.on('error', (e) => errors.push(e));
  send(1);
  const good = deflate(diff(payload(1), payload(2)));
  send(2, { baseline: 1, bytes: good.subarray(0, good.length - 3) }); // cut short
  assert.deepEqual(seen, [1]);
  assert.deepEqual(stateAcks(), ['room1:1', 'room1:0'], 'the server is told to send the next one whole');
  send(3, { bytes: Uint8Array.of(0xff, 0xff, 0xff) }); // not DEFLATE
  send(4, { compression: 2 }); // a compression this client does not know
  assert.deepEqual(seen, [1]);
  assert.deepEqual(stateAcks(), ['room1:1', 'room1:0'], 'asked once');
  assert.equal(c.stats.inflateFailures, 3);
  assert.equal(c.stats.deltaFailures, 0, 'not counted as deltas that failed');
  assert.equal(c.stats.compressedStates, 1, 'only the one inflated');

  await new Promise((r) => setTimeout(r, ACK_INTERVAL_MS + 10));
  send(5);
  send(6, { baseline: 5 });
  assert.deepEqual(seen, [1, 5, 6]);
  assert.deepEqual(stateAcks(), ['room1:1', 'room1:0', 'room1:5']);
  send(7, { bytes: Uint8Array.of(0x03) }); // cut short again
  assert.equal(stateAcks().at(-1), 'room1:0', 'and asked again after a state applied');
  assert.deepEqual(errors, [], 'dropped quietly, as a delta that does not apply');
  await c.close();
});

test('deltas: false: compressed states are inflated all the same; one that does not inflate is dropped without StateAck', async () => {
  const c = await Client.connect(URL, opts({ deltas: false, compression: true }));
  const room = await c.join('room1');
  /** @type {number[]} */
  const seen = [];
  room.onState((s) => seen.push(s.tick));
  send(1);
  send(2, { bytes: Uint8Array.of(0xff) });
  send(3);
  assert.deepEqual(seen, [1, 3]);
  assert.deepEqual(stateAcks(), []);
  assert.deepEqual([c.stats.compressedStates, c.stats.inflateFailures, c.stats.wholeStates], [2, 1, 2]);
  await c.close();
});

test('a client that did not ask inflates what comes compressed all the same', async () => {
  const c = await Client.connect(URL, opts());
  assert.equal(c.compression, null);
  const room = await c.join('room1');
  /** @type {number[]} */
  const seen = [];
  room.onState((s) => seen.push(s.tick));
  send(1);
  assert.deepEqual(seen, [1]);
  assert.equal(c.stats.compressedStates, 1);
  await c.close();
});

/** The URLs the client dialled, in order. */
const dialled = () => FakeWebSocket.sockets.map((ws) => ws.url);

test('compression: true asks on the URL of the first connection and of each reconnect; Client#url stays as given', async () => {
  const c = await Client.connect(URL, opts({ compression: true }));
  await c.join('room1');
  assert.deepEqual(dialled(), [`${URL}?compress=deflate`]);
  assert.equal(c.url, URL);
  assert.deepEqual(c.urls, [URL]);
  const resumed = waitFor(c, 'resumed', () => true, 2000);
  socket().drop(1006);
  await resumed;
  assert.deepEqual(dialled(), [`${URL}?compress=deflate`, `${URL}?compress=deflate`], 'the reconnect asks again');
  assert.equal(c.compression, 'deflate');
  await c.close();
});

test('compression: false (the default) asks for nothing; a server that serves none answers null; the option is checked', async () => {
  const plain = await Client.connect(URL, opts());
  assert.deepEqual(dialled(), [URL]);
  assert.equal(plain.compression, null);
  await plain.close();
  fake.state.noCompression = true;
  const c = await Client.connect(URL, opts({ compression: true }));
  assert.equal(c.compression, null, 'asked, but the server does not compress');
  await c.close();
  assert.throws(() => new Client(URL, opts({ compression: /** @type {any} */ ('deflate') })), /options\.compression must be true or false/);
});

test('with auth in the query, the URL carries the token and asks for compression', async () => {
  const onMessage = /** @type {NonNullable<import('./fake-ws.js').FakeServer['onMessage']>} */ (fake.server.onMessage);
  fake.server.onMessage = (ws, msg) => {
    if (msg.kind.auth) ws.push({ kind: { authenticated: { user: 'ann', expiresAt: 0 } } });
    else onMessage(ws, msg);
  };
  const c = await Client.connect('ws://127.0.0.1:9/ws?room=a', opts({ compression: true, auth: { token: 'jwt', mode: 'query' } }));
  assert.equal(dialled()[0], 'ws://127.0.0.1:9/ws?room=a&token=jwt&compress=deflate');
  assert.equal(c.url, 'ws://127.0.0.1:9/ws?room=a', 'the token and the ask stay out of Client#url');
  await c.close();
});

const A = 'ws://a.test:1/ws';
const B = 'ws://b.test:2/ws';

test("a join's redirect to another node asks for compression there too", async () => {
  const onMessage = /** @type {NonNullable<import('./fake-ws.js').FakeServer['onMessage']>} */ (fake.server.onMessage);
  fake.server.onMessage = (ws, msg) => {
    const j = msg.kind.joinOrCreate;
    if (j && ws.url.startsWith(A)) {
      fake.reliable(fake.session(ws), { redirect: { request: j.request, room: 'room1', url: B, reservation: 'seat-1' } });
      return;
    }
    onMessage(ws, msg);
  };
  const c = await Client.connect(A, opts({ compression: true }));
  const room = await c.joinOrCreate('arena');
  assert.equal(room.room, 'room1');
  assert.deepEqual(dialled(), [`${A}?compress=deflate`, `${B}?compress=deflate`]);
  assert.equal(c.url, B);
  assert.equal(c.compression, 'deflate', "the new node's Welcome");
  send(1);
  assert.equal(c.stats.compressedStates, 1);
  await c.close();
});

test("a resume sent on to the session's node asks for compression there too", async () => {
  fake.state.resumeRedirect = (ws) => (ws.url.startsWith(A) ? B : null);
  const c = await Client.connect(A, opts({ compression: true }));
  await c.join('room1');
  const resumed = waitFor(c, 'resumed', () => true, 2000);
  socket().drop(1006);
  await resumed;
  assert.deepEqual(dialled(), [`${A}?compress=deflate`, `${A}?compress=deflate`, `${B}?compress=deflate`]);
  assert.equal(c.url, B);
  assert.equal(c.compression, 'deflate');
  await c.close();
});
