// Cluster redirects in the client, against scripted fake servers: the
// `Hello` that announces them, and following a `Redirect` to the room's
// node (docs/protocol.md §4.3). The real two-node cluster: cluster.test.js.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client, RedirectError, JoinError, ConnectError } from '../src/index.js';
import { VERSION, HELLO_CLIENT } from '../src/version.js';
import { FakeWebSocket, resetFake } from './fake-ws.js';
import { fakeSessions } from './fake-sessions.js';
import { mockClock } from './clock.js';

const URL = 'ws://127.0.0.1:9/ws';
/** @param {Partial<import('../src/client.js').ConnectOptions>} [extra] */
const opts = (extra = {}) => ({
  tokens: ['arena.v2.msgpack'],
  WebSocket: FakeWebSocket,
  timeoutMs: 1000,
  ...extra,
});
const kindOf = (/** @type {any} */ m) => Object.keys(m.kind)[0];

/** @type {ReturnType<typeof fakeSessions>} */
let fake;
beforeEach(() => {
  fake = fakeSessions();
  resetFake(fake.server);
});

test('Hello names the SDK and its version (package.json) and announces redirect', () => {
  const pkg = JSON.parse(readFileSync(new globalThis.URL('../package.json', import.meta.url), 'utf8'));
  assert.equal(VERSION, pkg.version);
  assert.equal(HELLO_CLIENT, `playhouse-js/${pkg.version}; redirect`);
});

test('every connection says Hello first, right after the Welcome: the first, and a resume after a drop', async (t) => {
  const clock = mockClock(t);
  const c = await clock.run(Client.connect(URL, opts({ reconnect: { baseMs: 2, capMs: 4, maxTries: 5, random: () => 0 } })));
  await clock.run(c.join('room1'));
  const first = FakeWebSocket.sockets[0];
  assert.deepEqual(first.all[0], { kind: { hello: { client: HELLO_CLIENT } } });
  first.drop();
  const resumed = new Promise((r) => c.once('resumed', r));
  await clock.run(resumed);
  const second = FakeWebSocket.sockets[1];
  assert.deepEqual(second.all.map(kindOf).slice(0, 2), ['hello', 'resume'], 'Hello, then Resume: the server takes both');
  assert.deepEqual(c.rooms.map((r) => r.room), ['room1'], 'the seat is kept');
  await clock.run(c.close());
});

const A = 'ws://a.test:1/ws';
const B = 'ws://b.test:2/ws';

/**
 * A fake cluster: each socket a new session (seqs from 1), answers by the
 * node (the socket's URL) from `plan`: `plan[url](kind, m, ws)` returns the
 * answer's kind (`{ joined: … }`, `{ redirect: … }`, …), with the socket's
 * next seq when it is a reliable one.
 * Nodes not in `plan` refuse the upgrade.
 * @param {Record<string, (kind: string, m: any, ws: FakeWebSocket) => any>} plan
 */
function cluster(plan) {
  let sessions = 0;
  /** @type {Map<FakeWebSocket, number>} */
  const seqs = new Map();
  /** @type {import('./fake-ws.js').FakeServer} */
  const server = {
    accept: (p, url) => (plan[url] ? p[0] : null),
    welcome: (ws) => ({ session: `s${++sessions}@${new globalThis.URL(ws.url).hostname}`, resumeToken: `tok${sessions}` }),
    onMessage(ws, msg) {
      const [kind] = Object.keys(msg.kind);
      if (kind === 'ack') return;
      const answer = plan[ws.url](kind, msg.kind[kind], ws);
      if (!answer) return;
      if (!['joined', 'joinError', 'redirect', 'left', 'message'].includes(Object.keys(answer)[0])) {
        ws.push({ kind: answer }); // not reliable: no seq
        return;
      }
      const seq = (seqs.get(ws) ?? 0) + 1;
      seqs.set(ws, seq);
      ws.push({ kind: answer, seq });
    },
  };
  resetFake(server);
}

/** A `Joined` for request `m.request`. */
const joined = (/** @type {any} */ m, room = 'R1', client = 1) => ({ joined: { request: m.request, room, roomType: 'arena', tickHz: 30, client } });
/** A `Redirect` to `url`. */
const redirect = (/** @type {any} */ m, url = B, room = 'R1', reservation = 'seat-1') => ({ redirect: { request: m.request, room, url, reservation } });
/** The sockets opened to `url`. */
const socketsTo = (/** @type {string} */ url) => FakeWebSocket.sockets.filter((ws) => ws.url === url);

test('a joinOrCreate answered with Redirect moves to the room\'s node, joins with the reservation and the same options, and resolves with its Joined', async (t) => {
  const clock = mockClock(t);
  cluster({
    [A]: (kind, m) => (kind === 'joinOrCreate' ? redirect(m) : null),
    [B]: (kind, m) => (kind === 'join' ? joined(m, m.room, 7) : null),
  });
  const c = await clock.run(Client.connect(A, opts({ urls: ['ws://lb.test:3/ws'] })));
  const sessionOnA = c.session;
  /** @type {any[]} */
  const moves = [];
  c.on('redirected', (e) => moves.push(e));
  /** @type {any[]} */
  const joins = [];
  c.on('joined', (j) => joins.push(j));
  const room = await clock.run(c.joinOrCreate('arena', { name: 'ann', level: 3 }));
  assert.equal(room.room, 'R1');
  assert.equal(room.client, 7);
  assert.deepEqual(c.rooms.map((r) => r.room), ['R1']);
  assert.equal(joins.length, 1, 'one joined event, for the final Joined');

  const [onA] = socketsTo(A);
  const [onB] = socketsTo(B);
  assert.equal(onA.closeCode, 1000, 'the old connection is closed normally (its session ends there)');
  assert.deepEqual(onB.all.map(kindOf), ['hello', 'join'], 'Hello first on the new connection too');
  assert.deepEqual(onB.all[0].kind.hello.client, HELLO_CLIENT);
  assert.deepEqual(onB.sent[0].kind.join, { request: onB.sent[0].kind.join.request, room: 'R1', reservation: 'seat-1', options: { name: 'ann', level: '3' } });

  assert.equal(moves.length, 1);
  assert.deepEqual({ from: moves[0].from, to: moves[0].to, room: moves[0].room }, { from: A, to: B, room: 'R1' });
  assert.notEqual(c.session, sessionOnA, 'a new session on the room\'s node');
  assert.equal(moves[0].session, c.session);
  assert.equal(moves[0].previous, sessionOnA);
  assert.equal(c.url, B);
  assert.deepEqual(c.urls, [B, A, 'ws://lb.test:3/ws'], 'the room\'s node first, then the configured URLs');
  assert.equal(c.status, 'open');
  await clock.run(c.close());
});

test('after a move, a lost connection is reconnected to the room\'s node first', async (t) => {
  const clock = mockClock(t);
  cluster({
    [A]: (kind, m) => (kind === 'joinOrCreate' ? redirect(m) : null),
    [B]: (kind, m) => (kind === 'join' ? joined(m, m.room) : kind === 'resume' ? { error: { code: 4002, reason: 'unknown' } } : null),
  });
  const c = await clock.run(Client.connect(A, opts({ reconnect: { baseMs: 2, capMs: 4, maxTries: 3, random: () => 0 } })));
  await clock.run(c.joinOrCreate('arena'));
  /** @type {string[]} */
  const tried = [];
  c.on('reconnecting', (e) => tried.push(e.url));
  const back = new Promise((r) => c.once('reconnected', r));
  socketsTo(B)[0].drop();
  const result = /** @type {any} */ (await clock.run(back));
  assert.deepEqual(tried, [B]);
  assert.equal(result.url, B);
  assert.deepEqual(result.rooms.map((/** @type {any} */ r) => r.room), ['R1'], 'the room rejoined on its node');
  await clock.run(c.close());
});

test('a client in a room does not move: the join rejects with RedirectError naming room, url and reservation', async (t) => {
  const clock = mockClock(t);
  cluster({
    [A]: (kind, m) => (kind === 'create' ? joined(m, 'HERE') : kind === 'join' ? redirect(m, B, m.room, 'seat-9') : null),
    [B]: () => assert.fail('no connection to B'),
  });
  const c = await clock.run(Client.connect(A, opts()));
  await clock.run(c.create('arena'));
  /** @type {any[]} */
  const moves = [];
  c.on('redirected', (e) => moves.push(e));
  await assert.rejects(clock.run(c.join('THERE')), (e) => {
    assert.ok(e instanceof RedirectError);
    assert.equal(e.kind, 'in-rooms');
    assert.deepEqual({ room: e.room, url: e.url, reservation: e.reservation }, { room: 'THERE', url: B, reservation: 'seat-9' });
    return true;
  });
  assert.equal(socketsTo(B).length, 0, 'no connection to the other node');
  assert.equal(moves.length, 0);
  assert.equal(c.url, A);
  assert.equal(c.status, 'open');
  assert.deepEqual(c.rooms.map((r) => r.room), ['HERE'], 'still in its room');
  await clock.run(c.close());
});

test('at most 3 redirects per join: a fourth rejects with RedirectError too-many', async (t) => {
  const clock = mockClock(t);
  const nodes = ['ws://n0.test/ws', 'ws://n1.test/ws', 'ws://n2.test/ws', 'ws://n3.test/ws', 'ws://n4.test/ws'];
  /** @type {Record<string, (kind: string, m: any) => any>} */
  const plan = {};
  nodes.forEach((url, i) => {
    plan[url] = (kind, m) => (kind === 'joinOrCreate' || kind === 'join' ? redirect(m, nodes[i + 1] ?? nodes[0], 'R1', `seat-${i}`) : null);
  });
  cluster(plan);
  const c = await clock.run(Client.connect(nodes[0], opts()));
  await assert.rejects(clock.run(c.joinOrCreate('arena', { name: 'bo' })), (e) => {
    assert.ok(e instanceof RedirectError);
    assert.equal(e.kind, 'too-many');
    assert.equal(e.url, nodes[4]);
    return true;
  });
  assert.equal(FakeWebSocket.sockets.length, 4, 'the first connection and 3 moves');
  assert.equal(c.url, nodes[3]);
  for (const ws of FakeWebSocket.sockets.slice(1)) {
    assert.deepEqual(ws.sent[0].kind.join.options, { name: 'bo' }, 'options carried over each hop');
  }
  await clock.run(c.close());
});

test('a JoinError on the room\'s node rejects the join as usual (the client stays there)', async (t) => {
  const clock = mockClock(t);
  cluster({
    [A]: (kind, m) => (kind === 'join' ? redirect(m, B, m.room) : null),
    [B]: (kind, m) => (kind === 'join' ? { joinError: { request: m.request, code: 3, reason: 'locked' } } : null),
  });
  const c = await clock.run(Client.connect(A, opts()));
  await assert.rejects(clock.run(c.join('R1')), (e) => e instanceof JoinError && e.codeName === 'ROOM_LOCKED');
  assert.equal(c.url, B);
  await clock.run(c.close());
});

test('a node that cannot be reached rejects the join with the connect error, and the client keeps its connection', async (t) => {
  const clock = mockClock(t);
  cluster({
    [A]: (kind, m) => (kind === 'joinOrCreate' ? redirect(m, 'ws://gone.test/ws') : kind === 'create' ? joined(m, 'NEW') : null),
  });
  const c = await clock.run(Client.connect(A, opts({ fetch: async () => { throw new Error('offline'); } })));
  await assert.rejects(clock.run(c.joinOrCreate('arena')), (e) => e instanceof ConnectError);
  assert.equal(c.url, A);
  assert.equal(c.status, 'open');
  const room = await clock.run(c.create('arena'));
  assert.equal(room.room, 'NEW', 'the old connection still serves');
  await clock.run(c.close());
});

test('with message auth the new connection authenticates before its join', async (t) => {
  const clock = mockClock(t);
  const auth = (/** @type {string} */ kind, /** @type {any} */ m, /** @type {FakeWebSocket} */ ws) =>
    kind === 'auth' ? (ws.push({ kind: { authenticated: { user: 'u', expiresAt: 0 } } }), null) : undefined;
  cluster({
    [A]: (kind, m, ws) => auth(kind, m, ws) ?? (kind === 'joinOrCreate' ? redirect(m) : null),
    [B]: (kind, m, ws) => auth(kind, m, ws) ?? (kind === 'join' ? joined(m, m.room) : null),
  });
  const c = await clock.run(Client.connect(A, opts({ auth: { token: 'u' } })));
  await clock.run(c.joinOrCreate('arena'));
  assert.deepEqual(socketsTo(B)[0].all.map(kindOf), ['hello', 'auth', 'join']);
  await clock.run(c.close());
});

// Resume on a cluster: a node that does not hold the session answers the
// Resume with `Redirect{request: 0, room: ''}` naming the node that does;
// the reconnect resumes there (docs/protocol.md §4.3, §7.1).

/**
 * `fake` (one logical server with sessions) behind node URLs: sockets to a
 * URL in `down` are refused at the upgrade.
 * @param {Set<string>} down
 */
function nodesOf(down) {
  resetFake({ ...fake.server, accept: (p, url) => (down.has(url) ? null : p[0]) });
}

test('a resume that reaches another node is redirected to the session\'s node and resumes there: same session, rooms and seqs; that node first in the URL list', async (t) => {
  const clock = mockClock(t);
  const down = new Set([B]);
  nodesOf(down);
  // B is down at first: the session begins on A.
  const c = await clock.run(Client.connect([B, A], opts({ reconnect: { baseMs: 2, capMs: 4, maxTries: 5, random: () => 0 } })));
  assert.equal(c.url, A);
  await clock.run(c.join('room1'));
  const session = c.session;
  const onA = FakeWebSocket.sockets[FakeWebSocket.sockets.length - 1];
  const sess = fake.session(onA);
  /** @type {string[]} */
  const texts = [];
  c.on('message', (m) => texts.push(m.payload.kind.event.text));
  /** @type {any[]} */
  const errors = [];
  c.on('error', (e) => errors.push(e));
  fake.message(sess, 'room1', 'one');
  fake.message(sess, 'room1', 'two');
  await clock.advance(5);
  const seqBefore = sess.seq;
  // A drops and refuses the first attempt; B is up again and does not hold the session.
  fake.state.resumeRedirect = (ws, s) => (ws.url !== s.node ? s.node : null);
  down.delete(B);
  down.add(A);
  /** @type {string[]} */
  const tried = [];
  c.on('reconnecting', (e) => {
    tried.push(e.url);
    if (e.attempt === 2) down.delete(A); // A is back by the time B sends the client there
  });
  onA.drop();
  await clock.advance(1);
  fake.message(sess, 'room1', 'while parked'); // kept for the replay
  /** @type {any[]} */
  const moves = [];
  c.on('redirected', (e) => moves.push(e));
  const back = new Promise((r) => c.once('reconnected', r));
  const result = /** @type {any} */ (await clock.run(back));

  assert.deepEqual(tried, [A, B], 'A (the lost connection\'s URL) refused, then B');
  assert.equal(moves.length, 1);
  assert.deepEqual(moves[0], { kind: 'resume', from: B, to: A, room: '', session, previous: session });
  const [toB] = socketsTo(B).slice(-1);
  assert.deepEqual(toB.all.map(kindOf), ['hello', 'resume'], 'B got the Resume and redirected it');
  assert.equal(toB.closeCode, 1000, 'B\'s connection is closed normally: it carried only its own fresh session');
  const toA = socketsTo(A).slice(-1)[0];
  assert.deepEqual(toA.all.map(kindOf).slice(0, 2), ['hello', 'resume'], 'Hello first on the node too');
  assert.deepEqual(toA.sent[0].kind.resume, toB.sent[0].kind.resume, 'the same token and lastSeq');
  assert.equal(toA.sent[0].kind.resume.lastSeq, seqBefore);

  assert.equal(result.resumed, true);
  assert.equal(result.url, A);
  assert.equal(c.session, session, 'the same session');
  assert.deepEqual(result.rooms.map((/** @type {any} */ r) => r.room), ['room1']);
  assert.deepEqual(c.rooms.map((r) => r.room), ['room1'], 'the seat is kept');
  assert.deepEqual(texts, ['one', 'two', 'while parked'], 'every reliable message once, in order');
  assert.deepEqual(errors, [], 'no seq gap');
  assert.equal(c.url, A);
  assert.deepEqual(c.urls, [A, B], 'the session\'s node first, then the configured URLs');

  // The next drop goes back to A first.
  tried.length = 0;
  const again = new Promise((r) => c.once('reconnected', r));
  socketsTo(A).slice(-1)[0].drop();
  const second = /** @type {any} */ (await clock.run(again));
  assert.deepEqual(tried, [A]);
  assert.equal(second.resumed, true);
  assert.equal(moves.length, 1, 'no redirect: A holds the session');
  await clock.run(c.close());
});

test('more than 3 redirects of one resume fail the attempt; the next attempt goes to the URL after the last node', async (t) => {
  const clock = mockClock(t);
  const nodes = ['ws://n1.test/ws', 'ws://n2.test/ws', 'ws://n3.test/ws', 'ws://n4.test/ws'];
  nodesOf(new Set());
  const c = await clock.run(Client.connect(A, opts({ reconnect: { baseMs: 2, capMs: 4, maxTries: 3, random: () => 0 } })));
  await clock.run(c.join('room1'));
  let resumes = 0;
  // The first 4 resumes are sent on, to n1 … n4; then A takes them.
  fake.state.resumeRedirect = () => (resumes < nodes.length ? nodes[resumes++] : null);
  /** @type {string[]} */
  const tried = [];
  c.on('reconnecting', (e) => tried.push(e.url));
  /** @type {any[]} */
  const moves = [];
  c.on('redirected', (e) => moves.push(e));
  const back = new Promise((r) => c.once('reconnected', r));
  socketsTo(A)[0].drop();
  const result = /** @type {any} */ (await clock.run(back));
  assert.deepEqual(moves.map((m) => m.to), nodes.slice(0, 3), '3 hops followed');
  assert.equal(socketsTo(nodes[3]).length, 0, 'the 4th is not');
  assert.equal(socketsTo(nodes[2])[0].closeCode, 4000, 'the attempt was given up like a failed one');
  assert.deepEqual(tried, [A, A], 'attempt 2: the URL after n3 in [n3, A]');
  assert.equal(result.resumed, true);
  assert.deepEqual(c.rooms.map((r) => r.room), ['room1']);
  assert.equal(c.url, A);
  await clock.run(c.close());
});

test('a reconnect that only meets redirected resumes gives up after maxTries', async (t) => {
  const clock = mockClock(t);
  nodesOf(new Set());
  const c = await clock.run(Client.connect(A, opts({ reconnect: { baseMs: 2, capMs: 4, maxTries: 1, random: () => 0 } })));
  await clock.run(c.join('room1'));
  let hop = 0;
  fake.state.resumeRedirect = () => `ws://n${++hop}.test/ws`;
  const closed = /** @type {Promise<any>} */ (new Promise((r) => c.once('close', r)));
  socketsTo(A)[0].drop();
  const e = await clock.run(closed);
  assert.equal(e.code, 1006);
  assert.match(e.reason, /gave up reconnecting after 1 attempts .*resume redirected more than 3 times \(last to ws:\/\/n4\.test\/ws\)/);
  assert.equal(c.status, 'closed');
});

test('a resume redirect to a node that cannot be reached fails the attempt; the next one resumes', async (t) => {
  const clock = mockClock(t);
  const GONE = 'ws://gone.test/ws';
  nodesOf(new Set([GONE]));
  const c = await clock.run(Client.connect(A, opts({ fetch: async () => { throw new Error('offline'); }, reconnect: { baseMs: 2, capMs: 4, maxTries: 3, random: () => 0 } })));
  await clock.run(c.join('room1'));
  let once = true;
  fake.state.resumeRedirect = () => (once ? ((once = false), GONE) : null);
  /** @type {string[]} */
  const tried = [];
  c.on('reconnecting', (e) => tried.push(e.url));
  /** @type {any[]} */
  const moves = [];
  c.on('redirected', (e) => moves.push(e));
  const back = new Promise((r) => c.once('reconnected', r));
  socketsTo(A)[0].drop();
  const result = /** @type {any} */ (await clock.run(back));
  assert.deepEqual(tried, [A, A]);
  assert.equal(moves.length, 0, 'no move: the node was not reached');
  assert.equal(result.resumed, true);
  assert.deepEqual(c.urls, [A], 'the URL list unchanged');
  await clock.run(c.close());
});

test('with message auth, the node the resume is sent on to gets Hello, Auth, then the Resume', async (t) => {
  const clock = mockClock(t);
  nodesOf(new Set());
  const base = fake.server.onMessage;
  resetFake({
    ...fake.server,
    onMessage(ws, msg) {
      if (msg.kind.auth) {
        ws.sent.pop(); // the fake server takes a Resume only as the first message: not counting the Auth
        ws.push({ kind: { authenticated: { user: 'u', expiresAt: 0 } } });
        return;
      }
      base?.(ws, msg);
    },
  });
  const c = await clock.run(Client.connect(A, opts({ auth: { token: 'u' }, reconnect: { baseMs: 2, capMs: 4, maxTries: 2, random: () => 0 } })));
  await clock.run(c.join('room1'));
  fake.state.resumeRedirect = (ws, s) => (ws.url !== B ? B : null);
  const back = new Promise((r) => c.once('reconnected', r));
  socketsTo(A)[0].drop();
  const result = /** @type {any} */ (await clock.run(back));
  assert.equal(result.resumed, true);
  assert.deepEqual(socketsTo(B)[0].all.map(kindOf).slice(0, 3), ['hello', 'auth', 'resume']);
  assert.equal(c.url, B);
  await clock.run(c.close());
});
