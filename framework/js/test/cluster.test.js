// A real two-node arena cluster (docs/cluster.md): a redis-server on a free
// port and two `arena --redis … --node-id a|b` processes. Client A creates
// an arena room on node a; client B, connected to node b, does a
// joinOrCreate there: node b redirects it, and the SDK moves to node a and
// ends up in the same room; a client in a room on node b gets a
// RedirectError instead. A client whose link to node a is cut fails over to
// node b, whose answer to its Resume sends it back to node a, where the
// session resumes with its room. Skipped when redis-server is not installed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { Client, RedirectError } from '../src/index.js';
import { startArena, options, sleep } from './helpers.js';
import { startProxy } from './proxy.js';

/** @returns {string | null} */
function which(/** @type {string} */ cmd) {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}
const REDIS = which('redis-server');

/** A port free right now. @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = /** @type {import('node:net').AddressInfo} */ (srv.address()).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Whether a Redis answers PING on `port`. @returns {Promise<boolean>} */
function pong(/** @type {number} */ port) {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.setTimeout(500, () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      got += d;
      if (got.includes('\r\n')) {
        s.destroy();
        resolve(got.startsWith('+PONG'));
      }
    });
  });
}

/** @type {import('node:child_process').ChildProcess | null} */
let redis = null;
/** @type {import('./helpers.js').Arena[]} */
const nodes = [];

before(async () => {
  if (!REDIS) return;
  const port = await freePort();
  redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !(await pong(port)); i++) await sleep(100);
  assert.ok(await pong(port), `redis-server does not answer on ${port}`);
  for (const id of ['a', 'b']) {
    nodes.push(await startArena(0, 15_000, ['--redis', `redis://127.0.0.1:${port}`, '--node-id', id, '--lease-ms', '1500']));
  }
});

after(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  if (redis && redis.exitCode === null) {
    const exited = new Promise((r) => redis?.once('exit', r));
    redis.kill('SIGKILL');
    await exited;
  }
});

test('a joinOrCreate on node b for node a\'s open room is redirected: the client moves to node a and joins that room', { skip: !REDIS && 'redis-server is not installed', timeout: 30_000 }, async () => {
  const [a, b] = nodes;
  const first = await Client.connect(a.url, options());
  const roomA = await first.joinOrCreate('arena', { name: 'ann' });

  // Node b sees the room once node a recorded it in Redis.
  const listed = `http://${b.addr}/rooms`;
  for (let i = 0; ; i++) {
    const res = await fetch(listed);
    if (res.ok && (await res.text()).includes(roomA.room)) break;
    assert.ok(i < 100, `room ${roomA.room} never listed on node b`);
    await sleep(100);
  }

  const second = await Client.connect(b.url, options());
  /** @type {any[]} */
  const moves = [];
  second.on('redirected', (e) => moves.push(e));
  const roomB = await second.joinOrCreate('arena', { name: 'bo' });
  assert.equal(roomB.room, roomA.room, 'the same room, on node a');
  assert.notEqual(roomB.clientId, roomA.clientId);
  assert.equal(moves.length, 1);
  assert.deepEqual({ from: moves[0].from, to: moves[0].to, room: moves[0].room }, { from: b.url, to: a.url, room: roomA.room });
  assert.equal(second.url, a.url);
  assert.deepEqual(second.urls, [a.url, b.url]);

  // Both play in it: the second client's state shows both players.
  const both = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no state with both players')), 10_000);
    roomB.onState((s) => {
      const players = s.payload?.kind?.state?.players ?? [];
      if (players.length >= 2) {
        clearTimeout(timer);
        resolve(players.length);
      }
    });
  });
  assert.ok(Number(both) >= 2);

  // A client in a room on node b does not move for node a's room.
  const third = await Client.connect(b.url, options());
  const own = await third.create('arena');
  await assert.rejects(third.join(roomA.room), (e) => {
    assert.ok(e instanceof RedirectError);
    assert.equal(e.kind, 'in-rooms');
    assert.equal(e.url, a.url);
    assert.equal(e.room, roomA.room);
    assert.ok(e.reservation.length > 0);
    return true;
  });
  assert.equal(third.url, b.url);
  assert.deepEqual(third.rooms.map((r) => r.room), [own.room]);
  await Promise.all([first.close(), second.close(), third.close()]);
});

test('a reconnect that fails over to node b is sent back to node a by its Resume and resumes there with its room', { skip: !REDIS && 'redis-server is not installed', timeout: 30_000 }, async () => {
  const [a, b] = nodes;
  // The client reaches node a through a proxy (its link can be cut), with node b as the next URL.
  const link = await startProxy(Number(new URL(a.url).port));
  try {
    const c = await Client.connect([link.url(), b.url], options({ reconnect: { baseMs: 10, capMs: 50, maxTries: 6 } }));
    const room = await c.joinOrCreate('arena', { name: 'dee' });
    const session = c.session;
    /** @type {string[]} */
    const texts = [];
    c.on('message', (m) => texts.push(m.payload.kind?.event?.text ?? ''));
    /** @type {any[]} */
    const errors = [];
    c.on('error', (e) => errors.push(e));
    /** @type {string[]} */
    const tried = [];
    c.on('reconnecting', (e) => tried.push(e.url));
    /** @type {any[]} */
    const moves = [];
    c.on('redirected', (e) => moves.push(e));
    const back = /** @type {Promise<any>} */ (new Promise((r) => c.once('reconnected', r)));

    // The link to node a dies and stays down: the next attempt goes to node b.
    link.refuse(true);
    assert.equal(link.cut(), 1);
    // Meanwhile someone joins the room: its "joined" message waits in the parked session.
    const other = await Client.connect(a.url, options());
    await other.join(room.room, { name: 'cy' });

    const result = await back;
    assert.equal(tried[0], link.url(), 'first back to the lost connection\'s URL (refused)');
    assert.ok(tried.includes(b.url), `node b tried: ${tried.join(', ')}`);
    assert.equal(moves.length, 1);
    assert.deepEqual(moves[0], { kind: 'resume', from: b.url, to: a.url, room: '', session, previous: session });
    assert.equal(result.resumed, true, 'resumed on node a, not a new session');
    assert.equal(result.url, a.url);
    assert.equal(c.session, session);
    assert.equal(c.url, a.url);
    assert.deepEqual(c.urls, [a.url, link.url(), b.url], 'node a first from now on');
    assert.deepEqual(c.rooms.map((r) => r.room), [room.room], 'the seat is kept');
    assert.equal(c.clientId(room.room), room.clientId, 'the same client id');
    for (let i = 0; i < 50 && !texts.includes('cy joined'); i++) await sleep(100);
    assert.ok(texts.includes('cy joined'), `the message sent while parked is replayed: ${JSON.stringify(texts)}`);
    assert.deepEqual(errors, [], 'no gap in the seqs');
    await Promise.all([c.close(), other.close()]);
  } finally {
    await link.close();
  }
});
