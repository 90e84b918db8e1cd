// The client's state machine against a scripted fake WebSocket: no server.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Client, ConnectError, HandshakeRefusedError, JoinError, ConnectionClosedError } from '../src/index.js';
import { FakeWebSocket, resetFake } from './fake-ws.js';
import { DOTS_GAME, DOTS_V1_PROTO } from './helpers.js';
import { mockClock } from './clock.js';

const URL = 'ws://127.0.0.1:9/ws';
const TOKENS = ['arena.v2.msgpack', 'arena.v1.msgpack'];
/** @param {Partial<import('../src/client.js').ConnectOptions>} [extra] */
const opts = (extra = {}) => ({ tokens: TOKENS, WebSocket: FakeWebSocket, timeoutMs: 1000, ...extra });

/** A fake arena: rooms by id; Join of an unknown id → ROOM_NOT_FOUND. */
function fakeArena() {
  /** @type {Set<string>} */
  const rooms = new Set();
  let nextRoom = 0;
  /** @type {import('./fake-ws.js').FakeServer} */
  const server = {
    accept: (p) => p[0],
    onMessage(ws, msg) {
      const [kind] = Object.keys(msg.kind);
      const m = msg.kind[kind];
      const joined = (/** @type {string} */ room) =>
        ws.push({ kind: { joined: { request: m.request, room, roomType: 'arena', tickHz: 30, client: 1 } } });
      if (kind === 'join') {
        if (rooms.has(m.room)) joined(m.room);
        else ws.push({ kind: { joinError: { request: m.request, code: 1, reason: 'no such room' } } });
      } else if (kind === 'joinOrCreate' || kind === 'create') {
        const id = `room${++nextRoom}`;
        rooms.add(id);
        joined(id);
      } else if (kind === 'ping') {
        ws.push({ kind: { pong: { clientTime: m.clientTime, serverTime: 1 } } });
      }
    },
  };
  return { server, rooms };
}

beforeEach(() => resetFake({ accept: (p) => p[0] }));

test('connect: Welcome gives protocol, version, codec, session', async () => {
  const c = await Client.connect(URL, opts());
  assert.equal(c.protocol, 'arena.v2.msgpack');
  assert.equal(c.version, 2);
  assert.equal(c.codec, 'msgpack');
  assert.equal(c.session, 's1');
  assert.equal(c.status, 'open');
  assert.deepEqual(FakeWebSocket.sockets[0].offered, TOKENS);
  assert.equal(FakeWebSocket.sockets[0].binaryType, 'arraybuffer');
  await c.close();
  assert.equal(c.status, 'closed');
});

test('connect: an echoed subprotocol that was not offered is an error', async () => {
  resetFake({ accept: () => 'arena.v3.msgpack' });
  await assert.rejects(Client.connect(URL, opts()), (e) => {
    assert.ok(e instanceof ConnectError && !(e instanceof HandshakeRefusedError));
    assert.equal(e.kind, 'bad-protocol');
    assert.match(e.message, /chose subprotocol "arena\.v3\.msgpack", which this client did not offer \(offered: arena\.v2\.msgpack, arena\.v1\.msgpack\)/);
    return true;
  });
  resetFake({ accept: () => '' });
  await assert.rejects(Client.connect(URL, opts()), /chose subprotocol ""/);
});

test('connect: a refused upgrade asks /info and explains', async () => {
  resetFake({ accept: () => null });
  /** @type {string[]} */
  const fetched = [];
  /** @this {unknown} @param {string} u */
  const fetch = async function (u) {
    // a browser's fetch throws "Illegal invocation" unless called on the global object
    if (this !== globalThis) throw new TypeError('Illegal invocation');
    fetched.push(u);
    return { ok: true, status: 200, json: async () => ({ app: 'arena', protocols: ['arena.v3.proto'], versions: [3] }) };
  };
  await assert.rejects(Client.connect(URL, opts({ fetch })), (e) => {
    assert.ok(e instanceof HandshakeRefusedError);
    assert.equal(e.kind, 'incompatible');
    assert.deepEqual(e.serverVersions, [3]);
    assert.deepEqual(e.offered, TOKENS);
    assert.match(e.message, /this client speaks arena v1–v2 \(arena\.v2\.msgpack, arena\.v1\.msgpack\), the server speaks arena v3/);
    return true;
  });
  assert.deepEqual(fetched, ['http://127.0.0.1:9/info']);
  const down = async () => {
    throw new TypeError('fetch failed');
  };
  await assert.rejects(Client.connect(URL, opts({ fetch: down })), (e) => {
    assert.ok(e instanceof ConnectError && !(e instanceof HandshakeRefusedError));
    assert.equal(e.kind, 'unreachable');
    assert.match(e.message, /the server is unreachable \(GET http:\/\/127\.0\.0\.1:9\/info: fetch failed; WebSocket: Unexpected server response: 400\)/);
    return true;
  });
});

test('reconnect: backoff delays from the injected RNG, then close after maxTries', async (t) => {
  const clock = mockClock(t);
  const c = await clock.run(Client.connect(URL, opts({ reconnect: { baseMs: 4, capMs: 10, maxTries: 4, random: () => 0.5 } })));
  /** @type {any[]} */
  const events = [];
  c.on('reconnecting', (e) => events.push(['reconnecting', e, Date.now()]));
  c.on('reconnected', (e) => events.push(['reconnected', e]));
  const closed = new Promise((r) => c.on('close', r));
  const first = FakeWebSocket.sockets[0];
  /** @type {number[]} when each attempt's socket got its answer */
  const answered = [];
  resetFake({ accept: () => (answered.push(Date.now()), null) }); // every new attempt is refused
  first.drop(1006);
  const close = /** @type {import('../src/client.js').CloseInfo} */ (await clock.run(closed));
  assert.deepEqual(
    events.map(([, e]) => [e.attempt, e.delayMs, e.code]),
    [[1, 2, 1006], [2, 4, 1006], [3, 5, 1006], [4, 5, 1006]], // 0.5 × min(10, 4·2^n)
  );
  // each attempt waited its delay, then the fake server answered 1 ms later
  assert.deepEqual(events.map(([, e, at], i) => answered[i] - at - e.delayMs), [1, 1, 1, 1]);
  assert.equal(FakeWebSocket.sockets.length, 4);
  assert.equal(close.code, 1006);
  assert.match(close.reason, /gave up reconnecting after 4 attempts/);
  assert.equal(c.status, 'closed');
});

test('reconnect: after a Shutdown notice the first attempt waits the hint plus jitter', async (t) => {
  const clock = mockClock(t);
  const c = await clock.run(Client.connect(URL, opts({ reconnect: { baseMs: 4, capMs: 10, maxTries: 2, random: () => 0.5 } })));
  /** @type {number[]} */
  const delays = [];
  c.on('reconnecting', (e) => delays.push(e.delayMs));
  const notice = new Promise((r) => c.on('shutdown', r));
  const closed = new Promise((r) => c.on('close', r));
  const first = FakeWebSocket.sockets[0];
  /** @type {number[]} */
  const answered = [];
  resetFake({ accept: () => (answered.push(Date.now()), null) });
  first.push({ kind: { shutdown: { reconnectAfterMs: 30 } } });
  assert.deepEqual(await notice, { reconnectAfterMs: 30, url: '' });
  const dropped = Date.now();
  first.drop(1001);
  await clock.run(closed);
  assert.deepEqual(delays, [30 + 2, 4], 'hint + 0.5 × min(10, 4) on the first attempt only');
  assert.ok(answered[0] - dropped >= 32, 'no attempt before the hint and the jitter passed');
});

test('reconnect: fatal close codes end the client at once', async () => {
  for (const code of [4005, 1008, 1007]) {
    resetFake({ accept: (p) => p[0] });
    const c = await Client.connect(URL, opts({ reconnect: { baseMs: 1, maxTries: 3 } }));
    let reconnecting = 0;
    c.on('reconnecting', () => reconnecting++);
    const closed = new Promise((r) => c.on('close', r));
    FakeWebSocket.sockets[0].drop(code, 'bye');
    assert.deepEqual(await closed, { code, reason: 'bye' });
    assert.equal(reconnecting, 0);
  }
});

test('reconnect: without the option a drop is final', async () => {
  const c = await Client.connect(URL, opts());
  const closed = new Promise((r) => c.on('close', r));
  FakeWebSocket.sockets[0].drop(1006);
  assert.deepEqual(await closed, { code: 1006, reason: '' });
});

test('reconnect: rooms are rejoined (same id, else joinOrCreate of the type); pending requests fail', async () => {
  const arena = fakeArena();
  resetFake(arena.server);
  const c = await Client.connect(URL, opts({ reconnect: { baseMs: 2, capMs: 4, maxTries: 5 } }));
  const a = await c.joinOrCreate('arena', { name: 'ann' });
  const b = await c.create('arena');
  assert.deepEqual([a.room, b.room], ['room1', 'room2']);
  arena.rooms.delete('room2'); // disposed while we were away
  const reconnected = new Promise((r) => c.on('reconnected', r));
  const oldServer = arena.server.onMessage;
  arena.server.onMessage = () => {}; // this ping never gets an answer
  const ping = c.ping();
  arena.server.onMessage = oldServer;
  FakeWebSocket.sockets[0].drop(1006);
  await assert.rejects(ping, ConnectionClosedError);
  const ev = /** @type {import('../src/client.js').ReconnectedEvent} */ (await reconnected);
  assert.equal(ev.protocol, 'arena.v2.msgpack');
  assert.deepEqual(ev.failed, []);
  const byPrev = Object.fromEntries(ev.rooms.map((r) => [r.previous, r.room]));
  assert.deepEqual(byPrev, { room1: 'room1', room2: 'room3' });
  assert.deepEqual(c.rooms.map((r) => r.room).sort(), ['room1', 'room3']);
  // the rejoins used the original options
  const sent = FakeWebSocket.sockets.at(-1)?.sent ?? [];
  assert.deepEqual(sent.map((m) => Object.keys(m.kind)[0]).sort(), ['join', 'join', 'joinOrCreate']);
  assert.deepEqual(sent.find((m) => m.kind.join?.room === 'room1').kind.join.options, { name: 'ann' });
  assert.equal(c.status, 'open');
  assert.equal(c.session, `s${FakeWebSocket.session}`);
  await c.close();
});

test('join errors reject with JoinError; inputs while disconnected are not sent', async () => {
  const arena = fakeArena();
  resetFake(arena.server);
  const c = await Client.connect(URL, opts({ reconnect: { baseMs: 50, maxTries: 1 } }));
  await assert.rejects(c.join('nope'), (e) => {
    assert.ok(e instanceof JoinError);
    assert.equal(e.code, 1);
    assert.equal(e.codeName, 'ROOM_NOT_FOUND');
    assert.equal(e.reason, 'no such room');
    assert.equal(e.message, 'join refused: ROOM_NOT_FOUND: no such room');
    return true;
  });
  assert.equal(c.sendInput('room1', 1, { moveX: 1 }), true);
  assert.throws(() => c.sendInput('room1', -1, {}), TypeError);
  FakeWebSocket.sockets[0].drop(1006);
  await new Promise((r) => c.once('reconnecting', r));
  assert.equal(c.status, 'reconnecting');
  assert.equal(c.sendInput('room1', 2, { moveX: 1 }), false);
  await assert.rejects(c.ping(), ConnectionClosedError);
  await c.close();
  assert.equal(c.status, 'closed');
});

test('state/message frames of rooms this client is not in are not emitted; listeners can be removed', async () => {
  const arena = fakeArena();
  resetFake(arena.server);
  const c = await Client.connect(URL, opts());
  const j = await c.joinOrCreate('arena');
  /** @type {any[]} */
  const got = [];
  const off = c.on('state', (s) => got.push(s));
  const ws = FakeWebSocket.sockets[0];
  const { encode } = await import('@msgpack/msgpack');
  const payload = encode({ kind: { event: { text: 'x', kind: 0, actor: 0, target: 0 } } });
  ws.push({ kind: { state: { room: 'other', tick: 1, acks: [], payload } } });
  ws.push({ kind: { state: { room: j.room, tick: 2, acks: [{ client: 1, seq: 0 }], payload } } });
  assert.deepEqual(got, [{ room: j.room, tick: 2, acks: [{ client: 1, seq: 0 }], payload: { kind: { event: { text: 'x', kind: 0, actor: 0, target: 0 } } } }]);
  off();
  ws.push({ kind: { state: { room: j.room, tick: 3, acks: [], payload } } });
  assert.equal(got.length, 1);
  /** @type {any[]} */
  const errors = [];
  c.on('error', (e) => errors.push(e));
  ws.push({ kind: { error: { code: 4004, reason: 'not in room' } } });
  assert.deepEqual(errors, [{ code: 4004, reason: 'not in room' }]);
  await c.close();
});

test('a state frame is decoded as game.state, a message frame as game.message', async () => {
  const arena = fakeArena();
  resetFake(arena.server);
  const c = await Client.connect(URL, opts({ tokens: ['dots.v1.msgpack'], protos: [DOTS_V1_PROTO], game: DOTS_GAME }));
  const j = await c.joinOrCreate('dots');
  /** @type {any[]} */
  const got = [];
  c.on('state', (s) => got.push(['state', s.payload]));
  c.on('message', (m) => got.push(['message', m.payload]));
  const { encode } = await import('@msgpack/msgpack');
  const ws = FakeWebSocket.sockets[0];
  ws.push({ kind: { state: { room: j.room, tick: 1, acks: [], payload: encode({ dots: [{ id: 1, x: 4 }] }) } } });
  ws.push({ kind: { message: { room: j.room, seq: 1, payload: encode({ text: 'ann joined' }) } }, seq: 1 });
  assert.deepEqual(got, [
    ['state', { dots: [{ id: 1, x: 4, y: 0 }] }],
    ['message', { text: 'ann joined' }],
  ]);
  await c.close();
});
