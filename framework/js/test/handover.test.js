// A draining cluster node hands its rooms and sessions to another node and
// names it in `Shutdown.url` before it closes with 1001: the reconnect
// resumes there first (same token, same session), then falls back to the
// configured URLs. Against scripted fake servers that share one set of
// sessions (fake-sessions.js), so any node can resume any session.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../src/index.js';
import { FakeWebSocket, resetFake } from './fake-ws.js';
import { fakeSessions } from './fake-sessions.js';
import { mockClock } from './clock.js';

const A = 'ws://a.test:1/ws';
const B = 'ws://b.test:2/ws';
const C = 'ws://c.test:3/ws';
/** @param {Partial<import('../src/client.js').ConnectOptions>} [extra] */
const opts = (extra = {}) => ({
  tokens: ['arena.v2.msgpack'],
  WebSocket: FakeWebSocket,
  timeoutMs: 1000,
  reconnect: { baseMs: 2, capMs: 4, maxTries: 4, random: () => 0 },
  ...extra,
});
const kindOf = (/** @type {any} */ m) => Object.keys(m.kind)[0];
const socketsTo = (/** @type {string} */ url) => FakeWebSocket.sockets.filter((ws) => ws.url === url);

/** @type {ReturnType<typeof fakeSessions>} */
let fake;
/** Nodes whose upgrades are refused. @type {Set<string>} */
let down;
beforeEach(() => {
  fake = fakeSessions();
  down = new Set();
  resetFake({ ...fake.server, accept: (p, url) => (down.has(url) ? null : p[0]) });
});

/**
 * A client connected to `urls` (the first up), in room1, and the URLs its
 * reconnects go to, in order.
 * @param {ReturnType<typeof mockClock>} clock
 * @param {string[]} urls
 */
async function inRoom(clock, urls) {
  const c = await clock.run(Client.connect(urls, opts()));
  await clock.run(c.join('room1'));
  /** @type {string[]} */
  const tried = [];
  c.on('reconnecting', (e) => tried.push(e.url));
  /** @type {any[]} */
  const notices = [];
  c.on('shutdown', (e) => notices.push(e));
  return { c, tried, notices, ws: FakeWebSocket.sockets[FakeWebSocket.sockets.length - 1] };
}

test('a Shutdown naming a url: the first reconnect resumes there, after the hint, with the same token and session', async (t) => {
  const clock = mockClock(t);
  const { c, tried, notices, ws } = await inRoom(clock, [A, B]);
  const session = c.session;
  const sess = fake.session(ws);
  fake.message(sess, 'room1', 'before');
  /** @type {any[]} */
  const attempts = [];
  c.on('reconnecting', (e) => attempts.push(e));
  /** @type {string[]} */
  const texts = [];
  c.on('message', (m) => texts.push(m.payload.kind.event.text));
  const back = new Promise((r) => c.once('reconnected', r));
  ws.push({ kind: { shutdown: { reconnectAfterMs: 30, url: C } } });
  await clock.advance(1);
  assert.deepEqual(notices, [{ reconnectAfterMs: 30, url: C }], 'the shutdown event carries the url');
  assert.deepEqual(c.urls, [A, B], 'nothing moves before the close');
  assert.equal(c.url, A);
  ws.drop(1001, 'server shutting down');
  await clock.advance(1);
  fake.message(sess, 'room1', 'while moving'); // kept for the replay
  const result = /** @type {any} */ (await clock.run(back));

  assert.deepEqual(tried, [C], 'the handed-over node first, and it resumed');
  assert.equal(attempts[0].delayMs, 30, 'the hint (plus jitter, 0 here) still delays the first attempt');
  const [toC] = socketsTo(C);
  assert.deepEqual(toC.all.map(kindOf).slice(0, 2), ['hello', 'resume']);
  assert.equal(toC.sent[0].kind.resume.lastSeq, 2, 'the seqs go on (a Joined and one message)');
  assert.equal(result.resumed, true);
  assert.equal(result.url, C);
  assert.equal(c.session, session, 'the same session');
  assert.deepEqual(c.rooms.map((r) => r.room), ['room1'], 'the seat is kept');
  assert.deepEqual(texts, ['while moving'], 'the missed message is replayed');
  assert.equal(c.url, C);
  assert.deepEqual(c.urls, [C, A, B], 'that node in front of the configured URLs');

  // A later loss, with no notice: back to the node that holds the session.
  tried.length = 0;
  const again = new Promise((r) => c.once('reconnected', r));
  toC.drop();
  assert.equal(/** @type {any} */ (await clock.run(again)).url, C);
  assert.deepEqual(tried, [C]);
  await clock.run(c.close());
});

test('a handed-over node that cannot be reached: the configured URLs follow, in order', async (t) => {
  const clock = mockClock(t);
  const { c, tried, ws } = await inRoom(clock, [A, B]);
  down.add(C);
  down.add(A); // the draining node is gone too
  const back = new Promise((r) => c.once('reconnected', r));
  ws.push({ kind: { shutdown: { reconnectAfterMs: 0, url: C } } });
  ws.drop(1001);
  const result = /** @type {any} */ (await clock.run(back));
  assert.deepEqual(tried, [C, A, B]);
  assert.equal(result.url, B);
  assert.equal(result.resumed, true);
  assert.deepEqual(c.urls, [C, A, B]);
  await clock.run(c.close());
});

test('a Shutdown naming a configured URL puts it first, without adding it again', async (t) => {
  const clock = mockClock(t);
  const { c, tried, ws } = await inRoom(clock, [A, B]);
  const back = new Promise((r) => c.once('reconnected', r));
  ws.push({ kind: { shutdown: { reconnectAfterMs: 0, url: B } } });
  ws.drop(1001);
  assert.equal(/** @type {any} */ (await clock.run(back)).url, B);
  assert.deepEqual(tried, [B]);
  assert.deepEqual(c.urls, [B, A]);
  await clock.run(c.close());
});

test('a Shutdown without a url reconnects as before: the lost connection\'s URL first', async (t) => {
  const clock = mockClock(t);
  down.add(A); // the session begins on B
  const { c, tried, notices, ws } = await inRoom(clock, [A, B]);
  assert.equal(c.url, B);
  down.delete(A);
  const back = new Promise((r) => c.once('reconnected', r));
  ws.push({ kind: { shutdown: { reconnectAfterMs: 5 } } });
  ws.drop(1001);
  assert.equal(/** @type {any} */ (await clock.run(back)).url, B);
  assert.deepEqual(notices, [{ reconnectAfterMs: 5, url: '' }]);
  assert.deepEqual(tried, [B]);
  assert.deepEqual(c.urls, [A, B], 'the list is as configured');
  await clock.run(c.close());
});

test('a url that is not a string is ignored', async (t) => {
  const clock = mockClock(t);
  const { c, tried, notices, ws } = await inRoom(clock, [A, B]);
  const back = new Promise((r) => c.once('reconnected', r));
  ws.push({ kind: { shutdown: { reconnectAfterMs: 0, url: 42 } } });
  ws.drop(1001);
  await clock.run(back);
  assert.deepEqual(notices, [{ reconnectAfterMs: 0, url: '' }]);
  assert.deepEqual(tried, [A]);
  await clock.run(c.close());
});
