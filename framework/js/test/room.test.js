// The Room handle against a scripted fake server with sessions: what a join
// returns, input numbering and acks, dropped inputs, and a handle that stays
// valid across a resume and a rejoin until its seat is gone for good.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Client, Room } from '../src/index.js';
import { FakeWebSocket, resetFake } from './fake-ws.js';
import { fakeSessions, event } from './fake-sessions.js';
import { waitFor } from './helpers.js';

const URL = 'ws://127.0.0.1:9/ws';
/** @param {Partial<import('../src/client.js').ConnectOptions>} [extra] */
const opts = (extra = {}) => ({
  tokens: ['arena.v2.msgpack'],
  WebSocket: FakeWebSocket,
  timeoutMs: 1000,
  reconnect: { baseMs: 2, capMs: 4, maxTries: 5, random: () => 0 },
  ...extra,
});

/** The socket the client uses: the newest open one. */
const socket = () => /** @type {FakeWebSocket} */ ([...FakeWebSocket.sockets].reverse().find((ws) => ws.readyState === 1));
/** The seqs of the inputs a socket carried, in order. @param {FakeWebSocket} ws */
const inputSeqs = (ws) => ws.sent.filter((m) => m.kind.input).map((m) => m.kind.input.seq);
/**
 * The server broadcasts a state of `room` with these acks.
 * @param {string} room
 * @param {Array<{ client: number, seq: number }>} acks
 * @param {number} [tick=1]
 */
const state = (room, acks, tick = 1) => socket().push({ kind: { state: { room, tick, acks, payload: event(`tick ${tick}`) } } });

/** @type {ReturnType<typeof fakeSessions>} */
let fake;
beforeEach(() => {
  fake = fakeSessions();
  resetFake(fake.server);
});

test('a join resolves with a Room: the fields of the join, and a handle', async () => {
  const c = await Client.connect(URL, opts());
  const room = await c.join('room1');
  assert.ok(room instanceof Room);
  assert.deepEqual(Object.keys(room).sort(), ['client', 'request', 'room', 'roomType', 'tickHz'], 'exactly a JoinResult');
  assert.deepEqual({ ...room }, { room: 'room1', roomType: 'arena', tickHz: 30, client: 11, request: 1 });
  assert.deepEqual(JSON.parse(JSON.stringify(room)), { ...room });
  assert.equal(room.id, 'room1');
  assert.equal(room.clientId, 11);
  assert.equal(room.active, true);
  assert.equal(c.getRoom('room1'), room);
  assert.equal(await c.joinOrCreate('arena').then((r) => r instanceof Room), true);
  await c.close();
});

test('send numbers the inputs 1, 2, 3; each state takes the seat’s own ack and hands over what it covered', async () => {
  const c = await Client.connect(URL, opts());
  const room = await c.join('room1');
  /** @type {import('../src/client.js').RoomState[]} */
  const states = [];
  room.onState((s) => states.push(s));
  assert.deepEqual([room.send({ moveX: 1 }), room.send({ moveX: 0 }), room.send({ moveX: -1 })], [1, 2, 3]);
  assert.deepEqual(inputSeqs(socket()), [1, 2, 3]);
  assert.equal(room.sentSeq, 3);
  assert.deepEqual(room.unacked.map((u) => u.seq), [1, 2, 3]);

  state('room1', [{ client: 7, seq: 40 }, { client: room.clientId, seq: 2 }]);
  assert.equal(room.ackedSeq, 2);
  assert.deepEqual(room.unacked, [{ seq: 3, input: { moveX: -1 } }]);
  assert.deepEqual(states.at(-1)?.acked, [{ seq: 1, input: { moveX: 1 } }, { seq: 2, input: { moveX: 0 } }]);
  assert.equal(states.at(-1)?.ackedSeq, 2);
  assert.equal(states.at(-1)?.payload.kind.event.text, 'tick 1', 'the state itself comes along');

  state('room1', [{ client: room.clientId, seq: 1 }], 2); // a late state
  assert.equal(room.ackedSeq, 2, 'an older ack never moves it back');
  assert.deepEqual(states.at(-1)?.acked, []);
  state('room1', [{ client: 7, seq: 41 }], 3); // this seat not listed
  assert.equal(room.ackedSeq, 2);
  state('room1', [{ client: room.clientId, seq: 0x80000002 }], 4); // 2^31 ahead: older, as serial numbers
  assert.equal(room.ackedSeq, 2, 'compared as RFC 1982 serial numbers, not as plain numbers');
  state('room1', [{ client: room.clientId, seq: 3 }], 5);
  assert.equal(room.ackedSeq, 3);
  assert.deepEqual(room.unacked, []);
  assert.equal(states.length, 5, 'every state of the room reaches the handle');
  await c.close();
});

test('an input the server names as dropped is reported and leaves the unacked list', async () => {
  const c = await Client.connect(URL, opts());
  const room = await c.join('room1');
  /** @type {import('../src/client.js').DroppedInput[]} */
  const dropped = [];
  room.onInputDropped((d) => dropped.push(d));
  /** @type {import('../src/client.js').ServerError[]} */
  const errors = [];
  c.on('error', (e) => errors.push(e));
  for (const moveX of [1, 0, -1]) room.send({ moveX });
  socket().push({ kind: { error: { code: 1013, reason: 'room busy: input dropped', room: 'room1', inputSeq: 2 } } });
  assert.deepEqual(dropped, [{ seq: 2, code: 1013, reason: 'room busy: input dropped', input: { moveX: 0 } }]);
  assert.deepEqual(room.unacked.map((u) => u.seq), [1, 3]);
  assert.equal(errors.length, 1, 'the client still emits the error');
  state('room1', [{ client: room.clientId, seq: 3 }]);
  assert.equal(room.ackedSeq, 3);
  // named after an ack had covered it: reported, with no input to give back
  socket().push({ kind: { error: { code: 4003, reason: 'refused', room: 'room1', inputSeq: 1 } } });
  assert.deepEqual(dropped.at(-1), { seq: 1, code: 4003, reason: 'refused', input: null });
  // another room's input is not this handle's
  socket().push({ kind: { error: { code: 4004, reason: 'not in room', room: 'room2', inputSeq: 3 } } });
  assert.equal(dropped.length, 2);
  await c.close();
});

test('states and messages go to the handle of their room only', async () => {
  const c = await Client.connect(URL, opts());
  const one = await c.join('room1');
  const two = await c.join('room2');
  /** @type {string[]} */
  const seen = [];
  one.onState((s) => seen.push(`one state ${s.room}`));
  two.onState((s) => seen.push(`two state ${s.room}`));
  one.onMessage((m) => seen.push(`one message ${m.payload.kind.event.text}`));
  two.onMessage((m) => seen.push(`two message ${m.payload.kind.event.text}`));
  state('room2', []);
  fake.message(fake.session(socket()), 'room1', 'hello one');
  assert.deepEqual(seen, ['two state room2', 'one message hello one']);
  await c.close();
});

test('a resume keeps the handle: the same seat, the seq goes on, the unacked inputs stay pending', async () => {
  const c = await Client.connect(URL, opts());
  const room = await c.join('room1');
  let rejoined = 0;
  room.onRejoined(() => rejoined++);
  room.send({ moveX: 1 });
  room.send({ moveX: 1 });
  const resumed = waitFor(c, 'resumed', () => true, 2000);
  socket().drop(1006);
  await waitFor(c, 'reconnecting');
  assert.equal(room.send({ moveX: 1 }), null, 'nothing goes out while reconnecting');
  assert.equal(room.sentSeq, 2, 'and no seq is used up');
  await resumed;
  assert.equal(c.getRoom('room1'), room);
  assert.equal(room.active, true);
  assert.equal(room.send({ moveX: -1 }), 3);
  assert.deepEqual(room.unacked.map((u) => u.seq), [1, 2, 3]);
  state('room1', [{ client: room.clientId, seq: 3 }]);
  assert.deepEqual(room.unacked, []);
  assert.equal(rejoined, 0, 'a resume is not a rejoin');
  await c.close();
});

test('a new session: the handle follows the new seat, numbering starts over, onRejoined says so', async () => {
  const c = await Client.connect(URL, opts());
  const room = await c.join('room1');
  const first = room.clientId;
  room.send({ moveX: 1 });
  /** @type {import('../src/client.js').RejoinedEvent[]} */
  const rejoined = [];
  room.onRejoined((r) => rejoined.push(r));
  const reconnected = waitFor(c, 'reconnected', () => true, 2000);
  fake.state.refuse = true;
  socket().drop(1006);
  const r = await reconnected;
  assert.equal(r.resumed, false);
  assert.equal(rejoined.length, 1);
  assert.deepEqual(rejoined[0], { room: 'room1', previous: 'room1', roomType: 'arena', tickHz: 30, client: room.clientId });
  assert.notEqual(room.clientId, first, 'a new seat');
  assert.equal(room.client, first, 'the fields of the join that made the handle stay as they were');
  assert.deepEqual({ sent: room.sentSeq, acked: room.ackedSeq, pending: room.unacked }, { sent: 0, acked: 0, pending: [] });
  assert.equal(room.send({ moveX: 1 }), 1);
  state('room1', [{ client: first, seq: 1 }, { client: room.clientId, seq: 1 }]);
  assert.equal(room.ackedSeq, 1, 'the ack of the new seat, found by its client id');
  await c.close();
});

test('a rejoin into another room when the old one is gone: the handle moves there', async () => {
  const c = await Client.connect(URL, opts());
  const room = await c.join('room2');
  /** @type {import('../src/client.js').RejoinedEvent[]} */
  const rejoined = [];
  room.onRejoined((r) => rejoined.push(r));
  const reconnected = waitFor(c, 'reconnected', () => true, 2000);
  fake.state.refuse = true;
  fake.state.rooms.delete('room2');
  socket().drop(1006);
  const r = await reconnected;
  assert.deepEqual(r.rooms.map((x) => [x.previous, x.room]), [['room2', 'room1']]);
  assert.equal(rejoined[0].previous, 'room2');
  assert.equal(room.id, 'room1');
  assert.equal(room.room, 'room2', 'the room the join answered');
  assert.equal(c.getRoom('room1'), room);
  assert.equal(c.getRoom('room2'), null);
  /** @type {string[]} */
  const seen = [];
  room.onState((s) => seen.push(s.room));
  state('room1', []);
  assert.deepEqual(seen, ['room1']);
  await c.close();
});

test('the handle ends once: after leave(), a kick, a rejoin that is not tried, the client closing', async () => {
  const c = await Client.connect(URL, opts());
  const a = await c.join('room1');
  const b = await c.join('room2');
  /** @type {string[]} */
  const ends = [];
  const track = (/** @type {Room} */ r, /** @type {string} */ name) => r.onLeave((l) => ends.push(`${name} ${l.reason} ${l.detail}`));
  track(a, 'a');
  track(b, 'b');
  assert.deepEqual(await a.leave(), { room: 'room1', reason: 1, detail: '' });
  assert.equal(a.active, false);
  assert.equal(a.send({ moveX: 1 }), null, 'a left room takes no inputs');
  fake.reliable(fake.session(socket()), { left: { room: 'room2', reason: 2, detail: 'kicked by the room' } });
  assert.deepEqual(ends, ['a 1 ', 'b 2 kicked by the room']);
  await c.close();

  // rejoin off: after a new session the seat is not taken again
  const d = await Client.connect(URL, opts({ reconnect: { baseMs: 2, maxTries: 3, random: () => 0, rejoin: false } }));
  const e = await d.join('room1');
  track(e, 'e');
  fake.state.refuse = true;
  socket().drop(1006);
  await waitFor(d, 'reconnected', () => true, 2000);
  assert.equal(ends.at(-1), 'e 0 not rejoined after a new session');
  // the client closing ends what is left
  fake.state.refuse = false;
  const f = await d.join('room2');
  track(f, 'f');
  await d.close();
  assert.equal(ends.at(-1), 'f 0 the client closed (1000)');
  assert.equal(ends.length, 4, 'each handle ended once');
});

test('a rejoin that fails ends the handle with the reason', async () => {
  const c = await Client.connect(URL, opts());
  const room = await c.join('room2');
  const ended = new Promise((resolve) => room.onLeave(resolve));
  fake.state.refuse = true;
  fake.state.rooms.clear(); // no room at all: join and joinOrCreate both fail
  socket().drop(1006);
  const r = await waitFor(c, 'reconnected', () => true, 2000);
  assert.equal(r.failed.length, 1);
  assert.deepEqual(await ended, { room: 'room2', reason: 0, detail: 'could not rejoin: join refused: ROOM_NOT_FOUND: no such room' });
  assert.equal(room.active, false);
  await c.close();
});
