// Sessions in the client, against a scripted fake server: reliable seq
// tracking and duplicates, acks, resume after a drop (Resume first, the
// replay, rooms reconciled), the 4002 fallback to a new session, 4009, and
// failover across a URL list. No real server (see resume.test.js for that).
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from '@msgpack/msgpack';
import { Client, ConnectError, ConnectionClosedError, TimeoutError } from '../src/index.js';
import { FakeWebSocket, resetFake } from './fake-ws.js';
import { fakeSessions, event } from './fake-sessions.js';
import { waitFor } from './helpers.js';
import { mockClock } from './clock.js';

const URL = 'ws://127.0.0.1:9/ws';
/** @param {Partial<import('../src/client.js').ConnectOptions>} [extra] */
const opts = (extra = {}) => ({
  tokens: ['arena.v2.msgpack'],
  WebSocket: FakeWebSocket,
  timeoutMs: 1000,
  reconnect: { baseMs: 2, capMs: 4, maxTries: 5, random: () => 0 },
  ...extra,
});

/**
 * The socket a client is using: the newest open one (each test here has one
 * client at a time; its older sockets are closed), or undefined once closed.
 */
const wsOf = (/** @type {Client} */ _c) =>
  /** @type {FakeWebSocket} */ (/** @type {unknown} */ ([...FakeWebSocket.sockets].reverse().find((ws) => ws.readyState === 1)));
/** Kinds of the messages a socket got from the client. */
const kinds = (/** @type {FakeWebSocket} */ ws) => ws.sent.map((m) => Object.keys(m.kind)[0]);
/** Collects the texts of `message` events. */
function texts(/** @type {Client} */ c) {
  /** @type {string[]} */
  const out = [];
  c.on('message', (m) => out.push(m.payload.kind.event.text));
  return out;
}

/** @type {ReturnType<typeof fakeSessions>} */
let fake;
beforeEach(() => {
  fake = fakeSessions();
  resetFake(fake.server);
});

test('seq: lastSeq tracks reliable messages; duplicates are dropped, a gap without resync is an error', async () => {
  const c = await Client.connect(URL, opts());
  assert.equal(c.session, 's1');
  assert.equal(c.resumeToken, 'tok1');
  assert.equal(c.lastSeq, 0);
  await c.join('room1');
  assert.equal(c.lastSeq, 1, 'Joined is reliable');
  const got = texts(c);
  /** @type {any[]} */
  const errors = [];
  c.on('error', (e) => errors.push(e));
  const ws = wsOf(c);
  const msg = (/** @type {number} */ seq, /** @type {string} */ text) =>
    ws.push({ kind: { message: { room: 'room1', seq, payload: event(text) } }, seq });
  msg(2, 'a');
  msg(3, 'b');
  msg(3, 'b again');
  msg(2, 'a again');
  msg(4, 'c');
  ws.push({ kind: { pong: { clientTime: 1, serverTime: 2 } } }); // no seq: not counted
  assert.deepEqual(got, ['a', 'b', 'c']);
  assert.equal(c.lastSeq, 4);
  assert.equal(errors.length, 0);
  msg(7, 'd');
  assert.deepEqual(got, ['a', 'b', 'c', 'd'], 'a message after a gap is still delivered');
  assert.equal(c.lastSeq, 7);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 1002);
  assert.match(errors[0].reason, /reliable message 7 after 4 without a resync: 2 missing/);
  await c.close();
});

test('acks: at once after `every` messages, else `intervalMs` after the first unacked one; never twice for one seq', async (t) => {
  const clock = mockClock(t);
  const c = await clock.run(Client.connect(URL, opts({ ack: { every: 3, intervalMs: 40 } })));
  await clock.run(c.join('room1')); // seq 1
  const s = fake.session(wsOf(c));
  assert.deepEqual(fake.acks, [], 'not yet: 1 unacked, under every=3');
  fake.message(s, 'room1', 'x'); // 2
  fake.message(s, 'room1', 'y'); // 3: three unacked
  assert.deepEqual(fake.acks, [3]);
  assert.equal(s.log.length, 0, 'the server dropped what was acked');
  fake.message(s, 'room1', 'z'); // 4
  await clock.advance(39);
  assert.deepEqual(fake.acks, [3], 'the interval has not passed');
  await clock.advance(1);
  assert.deepEqual(fake.acks, [3, 4], 'intervalMs after the first unacked message');
  await clock.advance(10_000);
  assert.deepEqual(fake.acks, [3, 4], 'nothing new, no ack');
  await clock.run(c.close());
  // ack: false sends none
  const quiet = await clock.run(Client.connect(URL, opts({ ack: false })));
  await clock.run(quiet.join('room1'));
  for (let i = 0; i < 100; i++) fake.message(fake.session(wsOf(quiet)), 'room1', `m${i}`);
  await clock.advance(10_000);
  assert.deepEqual(fake.acks, [3, 4]);
  await clock.run(quiet.close());
});

test('resume: Resume is the first message; missed messages come once, in order; resumed, then reconnected; the token rotates', async () => {
  const c = await Client.connect(URL, opts({ ack: { every: 1000, intervalMs: 10_000 } }));
  const j = await c.join('room1');
  const got = texts(c);
  /** @type {string[]} */
  const order = [];
  for (const e of /** @type {const} */ (['reconnecting', 'resumed', 'newSession', 'reconnected', 'message'])) c.on(e, () => order.push(e));
  const first = wsOf(c);
  const s = fake.session(first);
  fake.message(s, 'room1', 'm1'); // seq 2
  fake.message(s, 'room1', 'm2'); // seq 3
  const reconnected = waitFor(c, 'reconnected', () => true, 2000);
  first.drop(1006);
  // written while the connection was gone: in the server's log, not received
  fake.message(s, 'room1', 'm3'); // seq 4
  fake.message(s, 'room1', 'm4'); // seq 5
  const resumed = await waitFor(c, 'resumed', () => true, 2000);
  const rec = await reconnected;
  const second = wsOf(c);
  assert.notEqual(second, first);
  assert.deepEqual(second.sent[0], { kind: { resume: { token: 'tok1', lastSeq: 3 } } }, 'Resume first, with the Welcome token and the last seq');
  assert.deepEqual(resumed, { session: 's1', replayed: 2, resync: false, rooms: [{ room: 'room1', roomType: 'arena', tickHz: 30, client: j.client }] });
  assert.deepEqual(got, ['m1', 'm2', 'm3', 'm4']);
  assert.equal(c.session, 's1', 'the same session');
  assert.equal(c.resumeToken, 'tok3', 'Resumed hands out a fresh token');
  assert.equal(c.lastSeq, 5);
  assert.equal(c.status, 'open');
  assert.deepEqual(c.rooms, [{ room: 'room1', roomType: 'arena', tickHz: 30, client: j.client }]);
  assert.deepEqual(order, ['message', 'message', 'reconnecting', 'message', 'message', 'resumed', 'reconnected']);
  assert.deepEqual(rec, {
    resumed: true,
    rooms: [{ room: 'room1', roomType: 'arena', tickHz: 30, client: j.client, request: 0, previous: 'room1' }],
    failed: [],
    protocol: 'arena.v2.msgpack',
    session: 's1',
    url: URL,
  });
  // the same again, resuming with the rotated token; a replay overlapping what arrived is dropped
  fake.message(s, 'room1', 'm5'); // 6
  second.drop(1006);
  await waitFor(c, 'resumed', () => true, 2000);
  assert.deepEqual(wsOf(c).sent[0], { kind: { resume: { token: 'tok3', lastSeq: 6 } } });
  wsOf(c).push({ kind: { message: { room: 'room1', seq: 5, payload: event('m4 again') } }, seq: 5 });
  wsOf(c).push({ kind: { message: { room: 'room1', seq: 6, payload: event('m5 again') } }, seq: 6 });
  fake.message(s, 'room1', 'm6'); // 7
  assert.deepEqual(got, ['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
  await c.close();
  assert.equal(wsOf(c), undefined);
});

test('resume: a join and a leave in flight at the drop are answered by the replay', async () => {
  const c = await Client.connect(URL, opts());
  await c.join('room1');
  const first = wsOf(c);
  const s = fake.session(first);
  // the server reads the requests, but its answers are lost with the connection
  const origPush = first.push.bind(first);
  first.push = () => {};
  const joining = c.join('room2');
  const leaving = c.leave('room1');
  const ping = c.ping();
  first.push = origPush;
  first.drop(1006);
  await assert.rejects(ping, ConnectionClosedError, 'a Pong is not replayed');
  const joined = await joining;
  assert.equal(joined.room, 'room2');
  assert.deepEqual(await leaving, { room: 'room1', reason: 1, detail: '' });
  assert.deepEqual(c.rooms.map((r) => r.room), ['room2']);
  assert.equal(fake.session(wsOf(c)), s, 'resumed, not a new session');
  await c.close();
});

test('resume refused (4002): newSession, no error event; rooms rejoined on the new session; seqs start over', async () => {
  const c = await Client.connect(URL, opts());
  const j = await c.join('room1');
  await c.join('room2');
  /** @type {string[]} */
  const order = [];
  /** @type {any[]} */
  const errors = [];
  c.on('error', (e) => errors.push(e));
  for (const e of /** @type {const} */ (['resumed', 'newSession', 'reconnected'])) c.on(e, () => order.push(e));
  const fresh = waitFor(c, 'newSession', () => true, 2000);
  const reconnected = waitFor(c, 'reconnected', () => true, 2000);
  // a join still waiting at the drop fails once the session is known to be gone
  const first = wsOf(c);
  first.push = () => {};
  const pending = c.join('room9');
  fake.state.refuse = true;
  first.drop(1006);
  assert.deepEqual(await fresh, { session: 's2', previous: 's1', reason: 'session expired or unknown; start a new session' });
  await assert.rejects(pending, (e) => e instanceof ConnectionClosedError && /the session was not resumed/.test(e.message));
  const r = await reconnected;
  assert.equal(r.resumed, false);
  assert.equal(r.session, 's2');
  assert.deepEqual(r.rooms.map((x) => [x.previous, x.room]).sort(), [['room1', 'room1'], ['room2', 'room2']]);
  assert.notEqual(r.rooms.find((x) => x.room === 'room1')?.client, j.client, 'a new seat');
  assert.deepEqual(order, ['newSession', 'reconnected']);
  assert.deepEqual(errors, [], 'the 4002 is not an error event');
  assert.deepEqual(kinds(wsOf(c)).slice(0, 3), ['resume', 'join', 'join']);
  assert.equal(c.session, 's2');
  assert.equal(c.resumeToken, 'tok2', "the new connection's own Welcome token");
  assert.equal(c.lastSeq, 2, 'the two Joined of the new session');
  await c.close();
});

test('resume: rooms reconciled with Resumed.rooms; a leave made while away is sent again', async () => {
  const c = await Client.connect(URL, opts());
  await c.join('room1');
  await c.join('room2');
  const first = wsOf(c);
  const s = fake.session(first);
  first.drop(1006);
  await waitFor(c, 'reconnecting');
  // meanwhile the server lost room2 without a Left reaching us (as after a resync)
  s.rooms.delete('room2');
  // ... and the app leaves room1 while disconnected
  assert.deepEqual(await c.leave('room1'), { room: 'room1', reason: 1, detail: 'left while reconnecting' });
  /** @type {any[]} */
  const left = [];
  c.on('left', (l) => left.push(l));
  const resumed = await waitFor(c, 'resumed', () => true, 2000);
  assert.deepEqual(resumed.rooms.map((r) => r.room), ['room1']);
  assert.deepEqual(kinds(wsOf(c)), ['resume', 'leave'], 'the leave goes out again: the server still had the seat');
  // (the fake answers within the send, so its Left is already in)
  assert.deepEqual(left, [
    { room: 'room2', reason: 0, detail: 'not in the resumed session' },
    { room: 'room1', reason: 1, detail: '' },
  ]);
  assert.deepEqual(c.rooms, []);
  await c.close();
});

test('resync: missed messages are gone; the next seq may jump without an error', async () => {
  const c = await Client.connect(URL, opts());
  await c.join('room1');
  const got = texts(c);
  /** @type {any[]} */
  const errors = [];
  c.on('error', (e) => errors.push(e));
  const first = wsOf(c);
  const s = fake.session(first);
  first.drop(1006);
  fake.message(s, 'room1', 'lost');
  fake.state.resync = true;
  const r = await waitFor(c, 'resumed', () => true, 2000);
  assert.deepEqual({ replayed: r.replayed, resync: r.resync }, { replayed: 0, resync: true });
  fake.message(s, 'room1', 'after'); // seq 13 after lastSeq 1
  fake.message(s, 'room1', 'next'); // 14
  assert.equal(c.lastSeq, 14);
  assert.deepEqual(got, ['after', 'next']);
  assert.deepEqual(errors, []);
  // only the first message after the resync may jump
  wsOf(c).push({ kind: { message: { room: 'room1', seq: 99, payload: event('jump') } }, seq: 20 });
  assert.equal(errors.length, 1);
  await c.close();
});

test('4009: the session was resumed elsewhere: replaced, then close 4009, no reconnect', async (t) => {
  const clock = mockClock(t);
  const a = await clock.run(Client.connect(URL, opts()));
  await clock.run(a.join('room1'));
  /** @type {string[]} */
  const seen = [];
  a.on('reconnecting', () => seen.push('reconnecting'));
  a.on('replaced', (e) => seen.push(`replaced ${e.code}`));
  const closed = waitFor(a, 'close', () => true, 2000);
  // another client resumes a's session with a's token
  const b = new FakeWebSocket(URL, ['arena.v2.msgpack']);
  await clock.advance(1); // b is open
  b.send(encode({ kind: { resume: { token: a.resumeToken, lastSeq: a.lastSeq } } }));
  assert.deepEqual(await clock.run(closed), { code: 4009, reason: 'session resumed on another connection' });
  await clock.advance(10_000); // far past any reconnect delay
  assert.deepEqual(seen, ['replaced 4009']);
  assert.equal(a.status, 'closed');
  assert.equal(FakeWebSocket.sockets.length, 2, 'no reconnect attempt');
});

test('resume with no answer in timeoutMs: the attempt is abandoned with 4000 (the session stays resumable), the next one resumes', async (t) => {
  const clock = mockClock(t);
  const c = await clock.run(Client.connect(URL, opts({ timeoutMs: 60 })));
  await clock.run(c.join('room1'));
  fake.state.silent = true;
  const first = wsOf(c);
  const dropped = Date.now();
  first.drop(1006);
  await clock.run(waitFor(c, 'reconnecting', (e) => e.attempt === 2, 2000));
  assert.ok(Date.now() - dropped > 60, 'the resume had timeoutMs to answer');
  const stuck = FakeWebSocket.sockets[1];
  assert.deepEqual(kinds(stuck), ['resume']);
  assert.equal(stuck.closeCode, 4000, 'not 1000, which would end the session on the server');
  fake.state.silent = false;
  const r = await clock.run(waitFor(c, 'resumed', () => true, 2000));
  assert.equal(r.session, 's1');
  await clock.run(c.close());
  assert.equal(wsOf(c), undefined);
});

test('resume: off by option, or no token from the server: a new session at once', async () => {
  const c = await Client.connect(URL, opts({ reconnect: { baseMs: 2, maxTries: 3, random: () => 0, resume: false } }));
  await c.join('room1');
  const fresh = waitFor(c, 'newSession', () => true, 2000);
  wsOf(c).drop(1006);
  assert.equal((await fresh).reason, 'resume is off');
  await waitFor(c, 'reconnected');
  assert.deepEqual(kinds(wsOf(c)), ['join']);
  await c.close();
  // a server without resume tokens (an older server)
  resetFake({ ...fake.server, welcome: () => ({ session: 'old', resumeToken: '' }) });
  const d = await Client.connect(URL, opts());
  const again = waitFor(d, 'newSession', () => true, 2000);
  wsOf(d).drop(1006);
  assert.equal((await again).reason, 'the server gave no resume token');
  await d.close();
});

test('URLs: the first connect tries each in order; a reconnect starts at the lost URL and moves on after each failed attempt', async () => {
  const A = 'ws://127.0.0.1:1/ws';
  const B = 'ws://127.0.0.1:2/ws';
  const C = 'ws://127.0.0.1:3/ws';
  const up = new Set([B]);
  resetFake({ ...fake.server, accept: (p, url) => (up.has(url) ? p[0] : null) });
  const fetch = async () => {
    throw new TypeError('fetch failed');
  };
  const c = await Client.connect([A, B], opts({ urls: [C, A], fetch, reconnect: { baseMs: 2, maxTries: 6, random: () => 0 } }));
  assert.deepEqual(c.urls, [A, B, C], 'url list, then options.urls, without repeats');
  assert.equal(c.url, B);
  assert.deepEqual(FakeWebSocket.sockets.map((w) => w.url), [A, B]);
  await c.join('room1');
  /** @type {string[]} */
  const tried = [];
  c.on('reconnecting', (e) => tried.push(e.url));
  up.clear();
  up.add(A); // B went away; A is back
  const reconnected = waitFor(c, 'reconnected', () => true, 2000);
  wsOf(c).drop(1006);
  const r = await reconnected;
  assert.deepEqual(tried, [B, C, A], 'B (the session is there), then the next ones');
  assert.equal(r.url, A);
  assert.equal(c.url, A);
  assert.equal(r.resumed, true, 'the fake shares sessions across URLs (real servers answer 4002: resume.test.js)');
  // the next drop starts at A
  tried.length = 0;
  up.clear();
  up.add(C);
  const again = waitFor(c, 'reconnected', () => true, 2000);
  wsOf(c).drop(1006);
  await again;
  assert.deepEqual(tried, [A, B, C]);
  await c.close();
  // none answers: the first URL's error, naming the others
  up.clear();
  await assert.rejects(Client.connect([A, B], opts({ fetch })), (e) => {
    assert.ok(e instanceof ConnectError);
    assert.match(e.message, /^could not connect to ws:\/\/127\.0\.0\.1:1\/ws: .*\(also tried ws:\/\/127\.0\.0\.1:2\/ws: could not connect/);
    return true;
  });
  const badUrls = /** @type {import('../src/client.js').ConnectOptions} */ (/** @type {unknown} */ ({ ...opts(), urls: 'ws://x/ws' }));
  assert.throws(() => new Client(A, badUrls), TypeError);
  assert.throws(() => new Client([A, 'http://x/ws'], opts()), /must start with ws:\/\/ or wss:\/\//);
  assert.throws(() => new Client([], opts()), /at least one server URL/);
});

test('a join that never gets an answer after a resume times out', async (t) => {
  const clock = mockClock(t);
  const c = await clock.run(Client.connect(URL, opts({ timeoutMs: 150 })));
  const first = wsOf(c);
  // the request is lost with the connection: the server never reads it
  first.send = () => {};
  const asked = Date.now();
  const joining = c.join('room1');
  first.drop(1006);
  await clock.run(waitFor(c, 'resumed', () => true, 1000));
  await assert.rejects(clock.run(joining), TimeoutError);
  assert.equal(Date.now() - asked, 150, 'timeoutMs after the join was sent');
  await clock.run(c.close());
});
