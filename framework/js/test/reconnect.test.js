// Reconnects against the real arena server: the server killed and restarted
// on the same port, and a connection dropped while the server lives on.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect as netConnect } from 'node:net';
import { Client } from '../src/index.js';
import { startArena, startArenaOn, options, waitFor } from './helpers.js';

/** @type {Array<() => Promise<void> | void>} */
const cleanups = [];
after(async () => {
  for (const f of cleanups.reverse()) await f();
});

const reconnect = { baseMs: 50, capMs: 400, maxTries: 30 };

test('server killed (SIGKILL) and restarted on the same port: reconnecting, reconnected, states again', { timeout: 30_000 }, async () => {
  let arena = await startArena();
  cleanups.push(() => arena.kill());
  const c = await Client.connect(arena.url, options({ tokens: ['arena.v2.proto', 'arena.v2.msgpack'], reconnect }));
  cleanups.push(() => c.close());
  const j = await c.joinOrCreate('arena', { name: 'phoenix' });
  await waitFor(c, 'state', (s) => s.room === j.room);
  const oldSession = c.session;

  /** @type {string[]} */
  const seen = [];
  c.on('reconnecting', (e) => seen.push(`reconnecting ${e.attempt} ${e.code}`));
  c.on('newSession', (e) => seen.push(`newSession ${e.previous === oldSession}`));
  c.on('resumed', () => seen.push('resumed'));
  c.on('reconnected', () => seen.push('reconnected'));
  c.on('close', (e) => seen.push(`close ${e.code}`));
  const firstReconnecting = waitFor(c, 'reconnecting', () => true, 5000);
  const reconnected = waitFor(c, 'reconnected', () => true, 20_000);

  const port = arena.port;
  await arena.kill('SIGKILL');
  const r = await firstReconnecting;
  assert.equal(r.attempt, 1);
  assert.equal(r.code, 1006);
  assert.ok(r.delayMs >= 0 && r.delayMs < reconnect.baseMs);
  assert.equal(c.status, 'reconnecting');
  assert.equal(c.sendInput(j.room, 1, { moveX: 1 }), false);

  arena = await startArenaOn(port);
  const ev = await reconnected;
  assert.equal(c.status, 'open');
  assert.notEqual(c.session, oldSession);
  assert.equal(ev.protocol, 'arena.v2.proto');
  assert.deepEqual(ev.failed, []);
  assert.equal(ev.rooms.length, 1);
  const [room] = ev.rooms;
  assert.equal(room.previous, j.room);
  assert.notEqual(room.room, j.room, 'the new server has new rooms: joinOrCreate of the same type');
  assert.equal(room.roomType, 'arena');
  assert.deepEqual(c.rooms.map((x) => x.room), [room.room]);
  assert.equal(seen[0], 'reconnecting 1 1006');
  // the new process does not know the session (its token was signed with the old process's key)
  assert.deepEqual(seen.slice(-2), ['newSession true', 'reconnected']);
  assert.equal(ev.resumed, false);

  // states flow again, with our name (the options were kept) and our inputs acked
  const s = await waitFor(c, 'state', (st) => st.room === room.room);
  assert.ok(s.payload.kind.state.players.some((/** @type {any} */ p) => p.name === 'phoenix'));
  const acked = waitFor(c, 'state', (st) => st.acks.some((a) => a.client === room.client && a.seq === 5));
  assert.equal(c.sendInput(room.room, 5, { moveX: 1 }), true);
  await acked;
  await c.close();
  assert.ok(!seen.some((x) => x.startsWith('close') && x !== 'close 1000'));
});

test('connection dropped while the server lives on, resume off: a new session rejoins the same room', { timeout: 20_000 }, async () => {
  const arena = await startArena();
  cleanups.push(() => arena.kill());
  // a TCP proxy whose connections the test can cut
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  const proxy = createServer((down) => {
    const up = connectTo(arena.port);
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    down.pipe(up).pipe(down);
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', () => r(undefined)));
  cleanups.push(() => new Promise((r) => proxy.close(() => r(undefined))));
  const port = /** @type {import('node:net').AddressInfo} */ (proxy.address()).port;

  const keeper = await Client.connect(arena.url, options({ tokens: ['arena.v2.msgpack'] }));
  cleanups.push(() => keeper.close());
  const jk = await keeper.create('arena', { name: 'keeper' });

  // (with resume, the default, the session and seat would simply be kept: resume.test.js)
  const c = await Client.connect(`ws://127.0.0.1:${port}/ws`, options({ tokens: ['arena.v2.msgpack'], reconnect: { ...reconnect, resume: false } }));
  cleanups.push(() => c.close());
  const j = await c.join(jk.room, { name: 'roamer' });
  await waitFor(c, 'state', (s) => s.room === j.room);
  const reconnected = waitFor(c, 'reconnected', () => true, 15_000);
  for (const s of sockets) s.destroy();
  const ev = await reconnected;
  assert.equal(ev.resumed, false);
  assert.deepEqual(ev.rooms.map((r) => [r.previous, r.room]), [[j.room, j.room]]);
  assert.notEqual(ev.rooms[0].client, j.client, 'a new seat');
  const s = await waitFor(c, 'state', (st) => st.room === j.room);
  const names = s.payload.kind.state.players.map((/** @type {any} */ p) => p.name);
  assert.ok(names.includes('keeper') && names.includes('roamer'), names.join());
});

/** @param {number} port */
function connectTo(port) {
  return netConnect(port, '127.0.0.1');
}
